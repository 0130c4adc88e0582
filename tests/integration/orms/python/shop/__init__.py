"""The Django app of the matrix: models over the shared schema (../../schema.sql)."""
