"""autograd-grader: checks and grades the PyTorch autograd exercises of Dive into Deep Learning."""

__version__ = "0.1.0"
