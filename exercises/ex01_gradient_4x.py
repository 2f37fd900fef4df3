"""练习 ex01：一个简单的例子 —— 求 y = 2xᵀx 关于 x 的梯度
（《动手学深度学习》2.5 自动微分 / 2.5.1 一个简单的例子）

任务：让 x 记录梯度，用 torch.dot 计算 y = 2xᵀx，调用 y.backward()，
返回 y（一个 0 维张量）。反向传播之后 x.grad 应当等于 4x。
注意：评分器交给你的 x 是一个全新的、不需要梯度的张量，
你必须自己调用 x.requires_grad_(True)。

Exercise ex01: a simple example -- the gradient of y = 2 x^T x w.r.t. x
(Dive into Deep Learning, 2.5 Automatic Differentiation, 2.5.1).

Task: make x track gradients, compute y = 2 x^T x with torch.dot, call
y.backward() and return y (a 0-dim tensor). Afterwards x.grad must be 4x.
Note: the grader hands you a fresh tensor that does NOT require grad; you
must call x.requires_grad_(True) yourself.

书中的例子 / The book's example:
    >>> x = torch.arange(4.0)
    >>> x.requires_grad_(True)   # 等价于 x = torch.arange(4.0, requires_grad=True)
    >>> x.grad                   # 默认值是 None / None by default
    >>> # ... 计算 y，调用 y.backward() 之后 / after computing y and y.backward():
    >>> x.grad == 4 * x
    tensor([True, True, True, True])
"""
import torch


def gradient_4x(x):
    """计算 y = 2xᵀx 并反向传播。Compute y = 2 x^T x and back-propagate.

    参数 / Args:
        x: 一维浮点张量，不需要梯度（请自己调用 requires_grad_）。
           1-D float tensor that does not require grad (call requires_grad_).

    返回 / Returns:
        y: 0 维张量 2xᵀx，带有 grad_fn；返回时 x.grad 应为 4x。
           0-dim tensor 2 x^T x with a grad_fn; x.grad must then be 4x.
    """
    raise NotImplementedError
