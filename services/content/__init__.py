"""The content service: a library of articles, videos, books and podcasts recommended into
spaces, and e-learning modules taken as short e-coaching sessions, with their progress and xAPI
records (issue 23). Its domain comes first; storage, RPC and pages follow."""
