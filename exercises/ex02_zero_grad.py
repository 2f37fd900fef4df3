"""练习 ex02：梯度会累积 —— 先清零，再求 x.sum() 的梯度
（《动手学深度学习》2.5 自动微分 / 2.5.1 一个简单的例子）

任务：让 x 记录梯度；先计算 y = 2xᵀx 并 backward()；然后清除 x 的梯度
（在默认情况下，PyTorch 会累积梯度，我们需要清除之前的值）；
再计算 y = x.sum() 并 backward()，返回第二个 y。最终 x.grad 应全为 1。
注意：评分器交给你的 x 不需要梯度，你必须自己调用 x.requires_grad_(True)。

Exercise ex02: gradients accumulate -- clear them, then take the gradient
of x.sum() (Dive into Deep Learning, 2.5 Automatic Differentiation, 2.5.1).

Task: make x track gradients; compute y = 2 x^T x and call backward();
then clear x's gradient (by default PyTorch accumulates gradients, so the
previous values must be cleared); compute y = x.sum(), call backward() and
return this second y. In the end x.grad must be all ones.
Note: the grader's x does NOT require grad; call x.requires_grad_(True).

书中的例子 / The book's example:
    >>> x = torch.arange(4.0, requires_grad=True)
    >>> # ... y = 2 * torch.dot(x, x); y.backward()  ->  x.grad == 4 * x
    >>> x.grad.zero_()           # 清除之前的梯度 / clear the old gradient
    >>> # ... y = x.sum(); y.backward()
    >>> x.grad
    tensor([1., 1., 1., 1.])
"""
import torch


def zero_then_sum(x):
    """两次反向传播，中间清零梯度。Two backward passes, clearing in between.

    参数 / Args:
        x: 一维浮点张量，不需要梯度（请自己调用 requires_grad_）。
           1-D float tensor that does not require grad (call requires_grad_).

    返回 / Returns:
        y: 第二个 y，即 0 维张量 x.sum()，带有 grad_fn；x.grad 应全为 1。
           the second y, the 0-dim tensor x.sum() with a grad_fn;
           x.grad must then be all ones.
    """
    raise NotImplementedError
