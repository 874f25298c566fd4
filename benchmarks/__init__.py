"""`make bench` (`python -m benchmarks.bench`): labutils' loops against the reference loops."""
