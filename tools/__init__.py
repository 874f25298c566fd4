"""The course's tooling, kept out of the installed `labutils`: run from a checkout with
`python -m tools.<module>` (e.g. `python -m tools.editions`, which `make student` runs)."""
