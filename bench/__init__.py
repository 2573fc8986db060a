"""Benchmarks: seed a large PostgreSQL database, measure list latency, load and page weight. See README.md."""
