"""练习 ex03：非标量变量的反向传播
（《动手学深度学习》2.5 自动微分 / 2.5.2 非标量变量的反向传播）

任务：让 x 记录梯度，逐元素计算 y = x * x（y 是一个向量），然后反向传播
“批量中每个样本单独计算的偏导数之和”，返回 y。之后 x.grad 应为 2x。
对非标量直接调用 y.backward() 会报错：要么先求和 y.sum().backward()，
要么传入一个全 1 的 gradient 参数 y.backward(torch.ones_like(y))。
注意：评分器交给你的 x 不需要梯度，你必须自己调用 x.requires_grad_(True)。

Exercise ex03: backward for non-scalar variables
(Dive into Deep Learning, 2.5 Automatic Differentiation, 2.5.2).

Task: make x track gradients, compute y = x * x elementwise (a vector),
back-propagate the sum of the per-sample partial derivatives, and return y.
Afterwards x.grad must be 2x. Calling y.backward() on a non-scalar fails:
either sum first, y.sum().backward(), or pass a gradient of ones,
y.backward(torch.ones_like(y)).
Note: the grader's x does NOT require grad; call x.requires_grad_(True).

书中的例子 / The book's example:
    >>> x = torch.arange(4.0, requires_grad=True)
    >>> y = x * x
    >>> y.sum().backward()       # 等价于 y.backward(torch.ones(len(x)))
    >>> x.grad
    tensor([0., 2., 4., 6.])
"""
import torch


def sum_backward(x):
    """逐元素平方并对和反向传播。Square elementwise, back-propagate the sum.

    参数 / Args:
        x: 一维浮点张量，不需要梯度（请自己调用 requires_grad_）。
           1-D float tensor that does not require grad (call requires_grad_).

    返回 / Returns:
        y: 与 x 同形状的张量 x * x，带有 grad_fn；x.grad 应为 2x。
           tensor x * x, same shape as x, with a grad_fn; x.grad must be 2x.
    """
    raise NotImplementedError
