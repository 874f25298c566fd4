"""The course's model settings, in one place: the chapters and the benchmark read them from here."""

COURSE_MODELS: dict[str, dict[str, int]] = {
    "dcgan": dict(nz=100, width=24, batch_size=64, epochs=2),  # chapter 3
}
