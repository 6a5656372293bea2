"""What identity uses of the outside world: password hashing, QR codes."""
