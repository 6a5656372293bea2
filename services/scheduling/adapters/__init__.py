"""Scheduling's adapters to the world outside its database: iTIP calendar messages (`itip`) and
the video providers' links (`video`). Mails go through the kernel's mailer."""
