"""The assessment service: coaching tools, tests and quizzes (instruments), their scoring and
bands, retakes over time, and 360 feedback (issue 22). Its domain comes first; storage, RPC and
pages follow."""
