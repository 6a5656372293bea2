"""Spaces' storage: `tables` (what the migrations create), one module per repository
(`spaces`, `goals`, `notes`, `activity`)."""
