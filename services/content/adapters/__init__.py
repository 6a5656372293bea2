"""Content's adapters: the module folder format (Markdown with YAML front matter), the link
checker (public addresses only) and the learning record store (xAPI) client."""
