"""Assessment's domain: instruments (instruments.py), answers and scores (scoring.py), and what
a 360's raters' answers show (feedback.py). Plain Python, no infrastructure."""
