"""Learning-management systems: otter-grader (Gradescope), Canvas, notebooks."""
