"""练习 ex06：不用 cos 求 sin 的导数
（《动手学深度学习》2.5 自动微分，练习 5）

任务：令 f(x) = sin(x)，求 df(x)/dx 在各点 x 处的值（书中要求画出 f(x) 和
df(x)/dx 的图像，其中后者不使用 f'(x) = cos(x)）。
不要使用 cos（torch.cos、x.cos()、np.cos、math.cos 等都不行，评分器会检查
源代码）；请用自动微分（backward 或 torch.autograd.grad）得到导数。
注意：评分器交给你的 x 不需要梯度，你必须自己调用 x.requires_grad_(True)。

Exercise ex06: the derivative of sin without cos
(Dive into Deep Learning, 2.5 Automatic Differentiation, exercise 5).

Task: let f(x) = sin(x); compute df(x)/dx at the points x (the book asks
to plot f(x) and df(x)/dx without exploiting f'(x) = cos(x)).
Do not use cos (torch.cos, x.cos(), np.cos, math.cos, ... are all
forbidden; the grader inspects your source code); get the derivative with
autograd (backward or torch.autograd.grad).
Note: the grader's x does NOT require grad; call x.requires_grad_(True).

提示 / Hint (the book's ex03 pattern applies to any elementwise function):
    >>> x = torch.arange(4.0, requires_grad=True)
    >>> y = x * x
    >>> y.sum().backward()
    >>> x.grad                   # d(x*x)/dx = 2x
    tensor([0., 2., 4., 6.])
"""
import torch


def sin_derivative(x):
    """用自动微分求 sin 的导数。Derivative of sin obtained with autograd.

    参数 / Args:
        x: 一维浮点张量，不需要梯度（请自己调用 requires_grad_）。
           1-D float tensor that does not require grad (call requires_grad_).

    返回 / Returns:
        dydx: 与 x 同形状的张量，各点处 sin 的导数。
           tensor of the same shape as x: the derivative of sin at each x.
    """
    raise NotImplementedError
