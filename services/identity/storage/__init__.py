"""Identity's storage: `tables` (what the migrations create), one module per repository, `rows`
(rows to domain objects and back), `unit` (the unit of work that declares the repositories) and
`rewrap` (the re-wrap step after a master-key rotation)."""
