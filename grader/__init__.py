"""autograd-grader: checks and grades the PyTorch autograd exercises of Dive into Deep Learning.

In a notebook, ``grader.check("ex03")`` runs the public checks on
``exercises/ex03_sum_backward.py`` in a sandboxed child process (never in
the notebook's kernel) and shows the same feedback as ``grader check``.
The first call starts that sandbox (a second or two: it imports torch); it
stays warm for later calls and is closed when the kernel exits.
"""

__version__ = "0.1.0"


def check(*exercises: str, lang: str | None = None, course: str | None = None, verbose: bool = False,
          plot: bool = False):
    """Run the public checks of ``exercises`` (all when none) and return a report Jupyter displays.

    ``verbose``: every failing case, not only the first; ``plot``: draw the exercise's plot (ex06: sin,
    your derivative and the expected curve) into the report, as ``grader check --plot`` saves it.
    """
    from pathlib import Path

    from grader.commands.check import check_for_notebook

    return check_for_notebook(exercises, lang=lang, course=Path(course) if course else None, verbose=verbose,
                              plot=plot)
