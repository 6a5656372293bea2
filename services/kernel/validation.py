"""Syntax rules shared by contracts (to report every bad field at once) and domain code."""

# An email address as people type it: something@domain.tld, no spaces, at most one '@'.
EMAIL_PATTERN = r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$"
# A tenant's short name: lowercase letters, digits and inner hyphens.
SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{0,38}[a-z0-9]$"

# What to tell a person whose input does not match a pattern above.
PATTERN_HINTS = {
    EMAIL_PATTERN: "must be an email address such as name@example.com",
    SLUG_PATTERN: "2 to 40 lowercase letters, digits or inner hyphens, such as acme-france",
}
