"""练习 ex04：分离计算（detach）
（《动手学深度学习》2.5 自动微分 / 2.5.3 分离计算）

任务：让 x 记录梯度；计算 y = x * x；用 u = y.detach() 得到一个与 y 值相同、
但丢弃了计算图的新变量 u；计算 z = u * x；对 z 的和反向传播；返回 (u, z)。
梯度不会经过 u 流回 x，所以 x.grad 应等于 u（而不是 z = x³ 的导数 3x²）。
注意：评分器交给你的 x 不需要梯度，你必须自己调用 x.requires_grad_(True)。

Exercise ex04: detaching computation
(Dive into Deep Learning, 2.5 Automatic Differentiation, 2.5.3).

Task: make x track gradients; compute y = x * x; use u = y.detach() to get
a new variable with the same value as y but without its computation graph;
compute z = u * x; back-propagate z's sum; return (u, z). The gradient does
not flow back through u to x, so x.grad must equal u (not 3x^2, the
derivative of z = x^3).
Note: the grader's x does NOT require grad; call x.requires_grad_(True).

书中的例子 / The book's example:
    >>> x = torch.arange(4.0, requires_grad=True)
    >>> y = x * x
    >>> u = y.detach()
    >>> z = u * x
    >>> z.sum().backward()
    >>> x.grad == u
    tensor([True, True, True, True])
"""
import torch


def detach_product(x):
    """把 y 当作常数求 z = u * x 的梯度。Treat y as a constant in z = u * x.

    参数 / Args:
        x: 一维浮点张量，不需要梯度（请自己调用 requires_grad_）。
           1-D float tensor that does not require grad (call requires_grad_).

    返回 / Returns:
        (u, z): u = x * x 且不需要梯度、没有 grad_fn；z = u * x 带有 grad_fn；
           x.grad 应等于 u。u = x * x, not requiring grad and without a
           grad_fn; z = u * x with a grad_fn; x.grad must equal u.
    """
    raise NotImplementedError
