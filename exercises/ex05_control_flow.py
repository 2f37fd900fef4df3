"""练习 ex05：Python 控制流的梯度计算
（《动手学深度学习》2.5 自动微分 / 2.5.4 Python 控制流的梯度计算）

任务：实现书中的函数 f(a)：b = a * 2；当 b 的范数小于 1000 时不断令
b = b * 2；如果 b 的和大于 0 则 c = b，否则 c = 100 * b；返回 c。
while 循环的次数和 if 的结果都取决于 a，但自动微分依然能求出梯度。
注意：这里由评分器负责让 a 需要梯度，并自己调用 d = f(a); d.backward()。
f 只负责计算：不要调用 requires_grad_ 或 backward，也不要用 .item()、
Python 浮点数或 torch.tensor(...) 打断计算图。

Exercise ex05: gradients through Python control flow
(Dive into Deep Learning, 2.5 Automatic Differentiation, 2.5.4).

Task: implement the book's f(a): b = a * 2; while the norm of b is below
1000, set b = b * 2; if the sum of b is positive, c = b, else c = 100 * b;
return c. The number of loop iterations and the branch depend on a, yet
autograd still computes the gradient.
Note: here the grader makes a require grad and itself calls
d = f(a); d.backward(). f only computes: do not call requires_grad_ or
backward, and do not break the graph with .item(), Python floats or
torch.tensor(...).

书中的例子 / The book's example:
    >>> a = torch.randn(size=(), requires_grad=True)
    >>> d = f(a)
    >>> d.backward()
    >>> a.grad == d / a          # f 是分段线性的 / f is piecewise linear
    tensor(True)
"""
import torch


def f(a):
    """书中带控制流的函数。The book's function with control flow.

    参数 / Args:
        a: 标量（0 维）张量，评分器已让它需要梯度。
           0-dim tensor; the grader has already made it require grad.

    返回 / Returns:
        c: 与 a 相连的张量（带有 grad_fn），等于 k * a（k 取决于 a）。
           tensor connected to a (with a grad_fn), equal to k * a where k
           depends on a.
    """
    raise NotImplementedError
