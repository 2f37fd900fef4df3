"""简体中文 catalogue: the same keys as ``en``, every sentence a student reads in Chinese."""

from types import MappingProxyType

from grader.catalog.zh_instructor import INSTRUCTOR

MESSAGES = MappingProxyType({
    # --- 整道题 ---------------------------------------------------------------
    "not_attempted": "尚未作答：函数仍然抛出 NotImplementedError。请把 `raise NotImplementedError` 换成你的代码。",
    "not_submitted": "未提交：找不到 {file}。",
    "file_too_large": "{file} 有 {size} 字节；练习文件必须小于 1 MiB。",
    "not_utf8": "{file} 不是 UTF-8 文本（第 {line} 行起有非法字节）；请以 UTF-8 编码保存后重试。",
    "unreadable": "无法读取 {file}（{error}）。",
    "syntax_error": "{file} 第 {line} 行：语法错误（SyntaxError）：{error}\n    {code}\n请修正该行的语法（检查括号、冒号和缩进）。",
    "import_error": "{file} 第 {line} 行：无法导入 '{module}'。请检查拼写；只能使用 torch、numpy、math 和标准库。",
    "raised_at_import": "{file} 第 {line} 行：{type}：{error}\n    {code}\n文件在加载时就出错了，还没调用到你的函数。",
    "missing_function": "{file} 中没有定义函数 `{function}`（找到的是：{defined}）。请保留练习模板中的函数名和参数。",
    "timeout": "运行 {seconds} 秒后被终止：代码没有在时限内结束。请检查是否有永远不会结束的循环。",
    "timeout.loop": "运行 {seconds} 秒后被终止：代码没有在时限内结束。请看第 {line} 行的循环 `{loop}`："
                    "对这个输入，它的条件有可能变为假吗？",
    "timeout.loop_case": "运行 {seconds} 秒后被终止：代码在用例 {case} 上没有结束。请看第 {line} 行的循环 `{loop}`："
                         "对这个输入，它的条件有可能变为假吗？",
    "hint.endless_loop.loop_case": "运行 {seconds} 秒后被终止：在用例 {case} 上 f 一直没有返回，第 {line} 行的循环 "
                                   "`{loop}` 对它没有结束。循环必须对每个 a 都能结束，包括负数：每一轮 b 的大小都要增长"
                                   "（b = b * 2），不能被重置；书中的条件 `b.norm() < 1000` 与 b 的正负无关。",
    "hint.endless_loop": "运行 {seconds} 秒后被终止：f 一直没有返回。书中的循环 `while b.norm() < 1000` 之所以能结束，"
                         "是因为每一轮 b 都翻倍（b = b * 2）且不会被重置；请检查你的 f 中哪个循环永远不会结束。",
    "hint.endless_loop.loop": "运行 {seconds} 秒后被终止：f 一直没有返回，也就是第 {line} 行的循环 `{loop}` "
                              "对评分器传入的某个 a 没有结束。它必须对每个 a 都能结束，包括负数：每一轮 b 的大小都要"
                              "增长（b = b * 2），不能被重置；书中的条件 `b.norm() < 1000` 与 b 的正负无关。",
    "memory_exceeded": "你的代码使用的内存超过了 {limit} MiB 的上限，已被终止。请检查是否有不断增长的张量或列表（或不会结束的循环）。",
    "crashed": "你的代码让 Python 进程崩溃了（信号 {signal}）。通常是误用了底层代码（ctypes 等）。",
    "no_result": "你的代码在返回之前就结束了进程（退出码 {code}）：练习中不要调用 sys.exit()、os._exit() 或 quit()。",
    "invalid_result": "无法安全地读回你的结果（{detail}）；请返回普通的张量。",
    "grader_error": "评分器自身在这道题上出错（{detail}）；这不是你的问题，会重新评分。如果一直如此，请告诉老师。",
    "sandbox_failed": "评分器无法在这台机器上隔离运行你的代码；这不是你的错，请告诉老师。",
    "submission_unreadable": "无法读取提交 {name}（{error}）。",
    "submission_too_deep": "提交 {name} 在 {depth} 层文件夹、{entries} 个条目之内没有练习文件；请把练习文件放在最外层。",
    "submission_empty": "提交 {name} 是空的：里面没有练习文件。",
    "zip_corrupt": "{name} 不是可读的 zip 压缩包（已损坏或不完整）；请重新上传。",
    "notebook_corrupt": "{name} 不是可读的 Jupyter 笔记本（{error}）；请在 Jupyter 中重新保存。",
    "canvas_unnamed": "Canvas 下载包中的 {file} 不是按 lastfirst_userid_fileid_name 命名的，无法判断属于哪位学生；"
                      "请手动评分，或从 Canvas 重新下载提交。",
    "canvas_unplaced": "{file} 没有评分：它不是练习文件（请命名为 ex03_sum_backward.py 或 ex03.py），"
                       "也不是包含练习文件的笔记本或 zip。",
    "canvas_nothing_placed": "提交的文件（{files}）中没有练习文件、笔记本或包含练习文件的 zip；"
                             "请把每个文件命名为 ex03_sum_backward.py 这样的名字后重新提交。",
    # --- 运行某个用例时抛出的错误 --------------------------------------------
    "raised": "{file} 第 {line} 行：{type}：{error}\n    {code}",
    "no_requires_grad": "{file} 第 {line} 行：{error}\n    {code}\nbackward() 需要计算图：请在计算 y 之前先对输入调用 "
                        "`x.requires_grad_(True)`（评分器传入的张量默认不需要梯度，requires_grad 为 False）。",
    "nonscalar_backward": "{file} 第 {line} 行：{error}\n    {code}\n不带参数的 backward() 只能用于标量。{name} 是向量："
                          "请对它的和求导：`{name}.sum().backward()`，或传入全 1 的梯度："
                          "`{name}.backward(torch.ones_like({name}))`。",
    "backward_twice": "{file} 第 {line} 行：{error}\n    {code}\n调用 backward() 之后计算图会被释放。再次反向传播前请重新计算 y"
                      "（或在第一次调用时传入 retain_graph=True）。",
    "inplace_leaf": "{file} 第 {line} 行：{error}\n    {code}\nx 需要梯度之后不要原地修改它；请创建新张量（y = 2 * x），不要写 x *= 2。",
    "out_of_memory": "{file} 第 {line} 行：你的代码耗尽了内存（{error}）。请检查是否有无限增长的张量。",
    "zero_none_grad": "{file} 第 {line} 行：{error}\n    {code}\n此时 {name}.grad 是 None：自动微分只在被求导的叶子张量"
                      "（即输入，而不是由它算出的结果）上填写 .grad，而且要在 backward() 运行之后。请在一次 backward 之后"
                      "清零输入的梯度：`x.grad.zero_()`。",
    "called_exit": "{file} 第 {line} 行：你的代码调用了 sys.exit()；请改为返回结果。",
    "recursion": "{file} 第 {line} 行：{error}：函数在无限地调用自己。",
    # --- 返回的结果 -----------------------------------------------------------
    "grad_none": "{noun} 是 None：自动微分没有为输入计算梯度。请先调用 `x.requires_grad_(True)`，再计算，"
                 "然后对结果调用 `backward()`。",
    "returned_none": "{noun}：你的函数返回了 None。是不是忘了写 `return`？",
    "returned_number": "{noun} 是 Python 的 {type}，不是张量：请直接返回张量本身（不要用 `y.item()` 或 `float(y)`），"
                       "这样才能检查它的 grad_fn 和梯度。",
    "returned_sequence": "{noun} 是一个含 {length} 个元素的 {type}；这里应返回单个张量。",
    "returned_other": "{noun} 是 {type}，不是 torch.Tensor。",
    "returned_not_pair": "请返回二元组 `{names}`：你的函数返回的是 {type}。",
    "returned_not_tuple": "请返回含 {length} 个元素的元组 `{names}`：你的函数返回的是 {type}。",
    "tensor_subclass": "{noun} 是 {type}，它是 torch.Tensor 的子类；请返回普通的 torch.Tensor。",
    "tensor_too_large": "{noun} 的形状是 {shape}，远大于输入；请返回与 x 形状相同的张量。",
    "no_grad_fn": "{noun} 没有 grad_fn：它没有连到 x 的计算图上。请在 `x.requires_grad_(True)` 之后用张量运算由 x 计算它，"
                  "不要 detach，也不要放在 torch.no_grad() 里。",
    "mismatch": "{noun} 与自动微分应得的结果不一致。",
    # --- 识别出的典型错误 -----------------------------------------------------
    "hint.accumulated_twice": "x.grad 是 8x，是 4x 的两倍：backward 执行了两次，而梯度会在 x.grad 中累积。"
                             "只调用一次 y.backward()（或者在再次调用前先把 x.grad 清零）。",
    "hint.scaled_gradient": "x.grad 是正确梯度的 {k:g} 倍：请检查常数因子，以及 backward() 执行了几次（梯度会累积）。",
    "hint.not_zeroed": "x.grad 是 4x + 1：第一次的梯度 4x 还在，因为梯度会累积。"
                       "在第二次 backward 之前先清零：`x.grad.zero_()`（或 `x.grad = None`）。",
    "hint.first_gradient_only": "x.grad 是 4x，即第一个 y 的梯度：请对第二个 y = x.sum() 调用 backward()。",
    "hint.returned_first_y": "y 是 2xᵀx，即第一个 y：请返回第二个 y = x.sum()。",
    "hint.weighted_backward": "x.grad 是 2x 的 {k:g} 倍：backward() 的 gradient 参数会给每个元素加权。"
                              "要把逐元素的导数相加，请传入全 1：`y.backward(torch.ones_like(y))`（或调用 `y.sum().backward()`）。",
    "hint.returned_sum": "y 是 x⊙x 的和：请返回向量 y = x * x 本身（只在反向传播时求和）。",
    "hint.through_detach": "x.grad 是 3x²：梯度也流经了 y = x * x。请用 `u = y.detach()` 把 u 变成常数，"
                           "这样 z = u * x 的梯度 x.grad 就等于 u。",
    "not_detached": "{noun} 仍然需要梯度（grad_fn 为 {grad_fn}）：请用 `y.detach()` 得到它，把它从计算图中分离出来。",
    "not_detached.requires_grad": "{noun} 又需要梯度了：它被 detach 之后，`requires_grad_()` 又把它变成了一个跟踪梯度的叶子。"
                                  "请直接使用 `y.detach()`，不要再调用 requires_grad_。",
    "no_grad_fn.call_backward": "{noun} 没有 grad_fn，计算图断了：`.item()`、Python 浮点数、`float(...)` 或 `torch.tensor(...)` "
                         "都会切断计算图。请从头到尾都对 `a` 使用张量运算（b = a * 2、b.norm()、b.sum()）。",
    "banned": "第 {line} 行用到了 {op}：\n    {code}\n本题要求不用 {op}：请让自动微分来计算（让输入需要梯度、计算、调用 backward()）"
              "（用到 {op} 的行：{lines}）。",
    "banned.cos": "第 {line} 行用到了余弦：\n    {code}\n本题要求不用 cos 求导数：先 `x.requires_grad_(True)`，"
                     "计算 `y = torch.sin(x)`，调用 `y.sum().backward()`，返回 `x.grad`（用到余弦的行：{lines}）。",
    "source_check_gated": "没有发现余弦；等你的导数正确后，这一项才计分。",
    "hint.returned_sin": "你返回的是 sin(x) 本身：请返回它的导数，即 `y.sum().backward()` 之后的 `x.grad`。",
    "hint.negated_cosine": "你的结果是 -cos(x)：请检查符号。",
    # --- diagnosis from what the code did ---
    "hint.new_leaf": "{input}.grad 是 None，虽然你调用了 requires_grad_——但调用在你自己新建的张量上（{ops}），"
                     "而不是评分器传入的 {input} 上，所以 backward() 把梯度写进了那个张量的 .grad。请对 {input} 本身调用 "
                     "`{input}.requires_grad_(True)`，并直接用 {input} 计算（不要用 torch.tensor(...)、torch.arange(...)、"
                     ".float() 或 .clone() 复制出新张量）。",
    "hint.new_leaf.call_backward": "{function} 用一个新建的张量（{ops}）而不是 {input} 来计算结果，所以评分器的反向传播到达不了 "
                                   "{input}.grad。请直接对 {input} 使用张量运算；评分器已经让 {input} 需要梯度了。",
    "hint.grad_disabled": "计算是在关闭梯度追踪的情况下进行的（torch.no_grad()、torch.inference_mode() 或 "
                          "set_grad_enabled(False)），所以没有记录计算图，{input}.grad 也就得不到梯度。请在这些代码块之外计算 y。",
    "hint.grad_disabled.call_backward": "{function} 在 torch.no_grad()（或 inference_mode / set_grad_enabled(False)）中计算，"
                                        "所以结果没有连回 {input} 的计算图。请去掉这些代码块再计算。",
    "hint.backward_in_f": "第 {line} 行：{function} 自己调用了 backward，但本题由评分器对 {function} 的返回值做反向传播。"
                          "请删掉 {function} 中的 backward 调用，直接返回结果。",
    "hint.backward_in_f.nowhere": "{function} 自己调用了 backward，但本题由评分器对 {function} 的返回值做反向传播。"
                                  "请删掉 {function} 中的 backward 调用，直接返回结果。",
    "hint.returned_grad": "{noun} 是 {input}.grad，即梯度，而不是值本身：请返回 {noun}（评分器会自己读取 {input}.grad）。",
    "hint.returned_input": "你返回的是 {input} 本身：请返回由 {input} 计算出的 {noun}。",
    "hint.swapped_outputs": "元组中各项的顺序错了：你返回的是 {yours}，应返回 {names}。",
    "hint.hard_coded_size": "这个输入的长度或数据类型和书中例子不同，你的代码在它上面出错：有东西被固定成了例子的样子"
                            "（torch.ones(4)、torch.zeros(4)、range(4)、手写的张量）。请根据 {input} 构造这些张量："
                            "torch.ones_like({input})、torch.zeros_like({input})、range(len({input}))。",
    "hint.mean_backward": "{input}.grad 是正确梯度除以 {n}：你对平均值（y.mean()）做了反向传播，它会除以元素个数。"
                          "请改为对和做反向传播：`y.sum().backward()`。",
    "hint.finite_difference": "{noun} 接近导数但不相等：看起来是用差商 (f(x + h) − f(x)) / h 估计的。"
                              "请让自动微分计算精确的导数（backward()，然后读取 x.grad）。",
    "hint.own_grid": "你在自己构造的点（{ops}）上计算，而不是在评分器传入的 {input} 上：请在给定的 {input} 处求导数。",
    "hint.not_from_autograd.swap": "你的结果不是由自动微分的反向传播得到的：评分器改变了自动微分使用的导数后再次运行你的函数，"
                                   "而你的结果没有随之改变。请由给定的 {input} 计算，调用 backward（或 "
                                   "torch.autograd.grad），并原样返回自动微分算出的梯度。",
    "withheld_not_from_autograd": "这个值不得分：它不是按练习要求由自动微分得到的（见下面关于自动微分的检查）。",
    "hint.not_from_autograd": "你的结果不是自动微分得到的：请由给定的 {input} 计算并反向传播，"
                              "再返回留在 {input}.grad 中的梯度（或 torch.autograd.grad 的返回值）。",
    "hint.not_from_autograd.through": "反向传播没有经过给定的 {input} 上的 {nodes}：请直接由 {input} 计算，"
                                      "对和做反向传播并返回 {input}.grad。",
    "hint.not_from_autograd.custom": "导数来自你自己写的反向代码（自定义 autograd.Function 或 hook），而不是自动微分对 sin "
                                     "的求导规则：请使用 torch.sin，让自动微分来求导。",
    "hint.cos_outside_backward": "你的代码在自动微分之外计算了余弦（不论写法：torch.cos、getattr、sin(x + π/2)、复指数、"
                                 "numpy 或 math）。本题要求不用 cos 求导数：计算 `y = torch.sin(x)`，调用 "
                                 "`y.sum().backward()`，返回 `x.grad`。",
    "hint.banned_outside_backward": "你的代码在自动微分之外计算了 {op}，本题不允许：请让自动微分来求导数"
                                    "（backward()，然后读取 x.grad）。",
    "hint.retain_graph_twice": "backward() 运行了 {count} 次（retain_graph=True 为下一次保留了计算图），而梯度会在 "
                               "{input}.grad 中累积。请只调用一次 backward()，不要用 retain_graph。",
    "hint.grad_assigned": "{input}.grad 是手动写入的，并没有运行 backward()：请让自动微分来填写它——在 "
                          "`{input}.requires_grad_(True)` 之后由 {input} 计算 y，再调用 `y.backward()`。",
    "backward_twice.once": "第 {line} 行：{error}\nbackward() 在一个已被第一次反向传播释放的计算图上又运行了一次。"
                           "每计算一个 y，只调用一次 backward()。",
    "backward_twice.once.nowhere": "{error}\nbackward() 在一个已被第一次反向传播释放的计算图上又运行了一次。"
                                   "每计算一个 y，只调用一次 backward()。",
    "raised.unlocated": "{error}",
    "raised.grader_backward": "评分器对你的函数返回值执行 backward() 时出错：{error}。请返回用张量运算由输入计算出的标量张量。",
    "grad_none.call_backward": "{noun} 是 None：{function} 的返回值没有连接到它的输入，评分器的 backward() 到达不了输入。"
                               "请从头到尾都对输入使用张量运算。",
    "hint.detached_wrong": "x.grad 是 2x²：分离的是 x 而不是 y，所以梯度仍然经过 u = y 流了回去。"
                           "要分离的是 y：`u = y.detach()`，再 `z = u * x`。",
    "hint.detached_wrong.backward": "第 {line} 行：对一个已被 detach() 从计算图中切断的结果调用了 backward()：\n"
                                    "    {code}\n只分离需要当作常数的张量（u = y.detach()），不要分离要反向传播的那个。",
    "hint.finite_difference.estimate": "导数是用差商 (f(x + h) − f(x)) / h 估计的，而不是由自动微分计算的："
                                       "请做反向传播并返回 {input}.grad。",
    "hint.new_leaf.partial": "有一部分计算是在你新建的张量（{ops}）上而不是在 {input} 本身上进行的，所以这部分梯度进了那个"
                             "张量，而不是 {input}.grad。请始终由 {input} 计算（要重新开始累积梯度，请清零 {input}.grad，"
                             "而不是复制 {input}）。",
    "hint.vector_not_scalar": "{noun} 是形状为 {shape} 的向量，但它应当是标量（0 维张量）："
                              "请用 torch.dot 或 .sum() 等把它归约为标量。",
    "hint.detached_wrong.order": "x.grad 是 3x²：u 虽然已分离，但 z 是在此之前（或直接）由 y 计算的，梯度因此经过了 y。"
                                 "请先分离再相乘：`u = y.detach()`，`z = u * x`。",
    "hint.cos_outside_backward.line": "第 {line} 行在自动微分之外计算了余弦：\n    {code}\n本题要求不用 cos 求导数："
                                      "计算 `y = torch.sin(x)`，调用 `y.sum().backward()`，返回 `x.grad`（用到余弦的行：{lines}）。",
    "hint.banned_outside_backward.line": "第 {line} 行在自动微分之外计算了 {op}，本题不允许：\n    {code}\n"
                                         "请让自动微分来求导数（用到 {op} 的行：{lines}）。",
    "hint.zeroed_after_backward": "x.grad 全为 0：它在第二次反向传播之后才被清零，把你需要的梯度也清掉了。"
                                  "请在两次反向传播之间清零：先 backward，再 `x.grad.zero_()`，然后第二次 backward。",
    "hint.missing_branch": "这里 d 是 f(a) / 100：对这个 a（b.sum() <= 0），f 应返回 c = 100 * b，但你的 f 返回了 b。"
                           "请检查 f 末尾的 if/else。",
    "hint.fixed_iterations": "d 是 f(a) 的 {k:g} 倍：b 被固定地翻倍了若干次。循环应在 b.norm() < 1000 时继续，"
                             "所以翻倍的次数取决于 a。",
    "misconception.zeroed_after_backward": "在最后一次反向传播之后才清零 x.grad，而不是在两次之间",
    "misconception.missing_branch": "ex05：缺少 else 分支（c = 100 * b）或从未执行",
    "misconception.fixed_iterations": "ex05：固定次数的翻倍，而不是取决于数据的 while 循环",
    "mismatch.grad": "{noun} 与期望的梯度不一致。",
    "mismatch.value": "{noun} 与期望的值不一致。",
    "misconception.new_leaf": "让自己新建的张量需要梯度，而不是给定的输入",
    "misconception.grad_disabled": "在 torch.no_grad() / inference_mode 中计算",
    "misconception.backward_in_f": "在 f 内调用了 backward（评分器会自己做反向传播）",
    "misconception.returned_grad": "返回了 x.grad（或 a.grad）而不是值",
    "misconception.swapped_outputs": "返回的元组顺序错误",
    "misconception.returned_input": "返回了输入本身",
    "misconception.hard_coded_size": "尺寸固定为书中例子：其他长度下出错",
    "misconception.mean_backward": "对 y.mean() 反向传播：梯度被除以 n",
    "misconception.finite_difference": "用有限差分估计导数",
    "misconception.own_grid": "使用自己构造的网格而不是给定的 x",
    "misconception.withheld_not_from_autograd": "值正确但不是由自动微分得到的：不给分",
    "misconception.not_from_autograd": "结果不是对 x 的 sin 做自动微分得到的",
    "misconception.cos_outside_backward": "在自动微分之外计算了余弦（ex06 作弊）",
    "misconception.banned_outside_backward": "在自动微分之外计算了禁止的函数",
    "misconception.retain_graph_twice": "用 retain_graph=True 反向传播两次：梯度累积",
    "misconception.detached_wrong": "分离（detach）了错误的张量",
    "misconception.vector_not_scalar": "应返回标量却返回了向量",
    "misconception.grad_assigned": "手动写入 x.grad，而不是调用 backward()",
    # --- 报告用语 -------------------------------------------------------------
    "ui.passed": "通过",
    "ui.failed": "未通过",
    "ui.status.passed": "已通过",
    "ui.status.failed": "未通过",
    "ui.status.not_attempted": "未开始",
    "ui.status.not_submitted": "未提交",
    "ui.status.error": "出错",
    "ui.case": "用例 {describe}",
    "ui.hidden_case": "隐藏用例：{describe}",
    "ui.points": "{score:g}/{max_score:g} 分",
    "ui.total": "总分：{score:g}/{max_score:g}",
    "ui.all_passed": "全部检查通过。🎉",
    "ui.shape": "形状不同：应为 {expected}，实际为 {actual}。",
    "ui.dtype": "数据类型不同：应为 {expected}，实际为 {actual}。",
    "ui.values": "不一致的元素：{mismatched} / {total}（{percent:.1f}%）",
    "ui.max_abs": "最大绝对误差：{diff:.6g}，位于下标 {index}（允许 {atol:g}）",
    "ui.max_rel": "最大相对误差：{diff:.6g}，位于下标 {index}（允许 {rtol:g}）",
    "ui.sample": "下标 {index}：应为 {expected:.6g}，实际为 {actual:.6g}",
    "ui.output": "你的代码输出了（另有 {dropped} 字节未显示）：",
    "ui.output_short": "你的代码输出了：",
    "ui.plot_hint": "查看曲线：grader check {id} --plot",
    "ui.plot_written": "图像已保存到 {path}",
    "ui.same_cause": "（原因同上）",
    "ui.more_cases": "……还有 {count} 个未通过的用例；加 -v 查看全部。",
    "ui.list_header": "{id}  {title}  （{points:g} 分）  {status}",
    "ui.sandbox_missing": "隔离：本机不支持 {layers}（{reasons}）；已使用其余最强的隔离方式。",
    "ui.hidden_checks": "{label}（隐藏用例）",
    # --- 各项检查在列表中的名称 -----------------------------------------------
    # --- grader check ex06 --plot ----------------------------------------------
    "plot.title": "{id} · sin(x) 及其导数",
    "plot.expected": "期望的 d sin(x)/dx",
    "plot.yours": "你的导数",
    "plot.nothing": "没有可绘制的导数",
    # --- 学生在命令行可能遇到的错误（各一句话） --------------------------------
    "error.no_config_at": "{root}：这里没有 config.yaml；请用 --course 指向课程文件夹。",
    "error.not_in_course": "{here}：不在课程文件夹中（它和它的上级目录都没有 config.yaml 和 exercises/）；"
                           "请先 cd 进入课程文件夹，或使用 --course DIR。",
    "error.unknown_exercise": "没有练习 {name}；可选的有：{choices}。",
    "error.which_exercise": "无法判断 {file} 是哪一道练习；请写明，例如 grader check ex03 --file {file}",
    "error.file_needs_one": "--file 一次只检查一道练习；请只写一道，例如 grader check ex03 --file my_ex03.py",
    "error.no_such_file": "{file}：文件不存在。",
    "error.case_not_shipped": "{file}：没有 {exercise} 用例 {case} 的期望值；这份副本只能运行老师提供的公开用例。",
    "error.expected_stale": "{file}：{exercise} 用例 {case} 的期望值是按另一组输入生成的；"
                            "`grader dist` 之后 config.yaml 被改过——请向老师索取新的副本。",
    "error.no_expected": "{root}：既没有 solutions/ 也没有 {file}；请在老师发给你的课程文件夹中运行 grader，或索取新的副本。",
    "error.expected_damaged": "{file}：文件已损坏；请向老师索取新的副本。",
    # --- grader check --watch -------------------------------------------------
    "watch.checking": "{time} · 正在检查 {ids}",
    "watch.rechecking": "{time} · {files} 已保存；重新检查 {ids}",
    "watch.config_changed": "{time} · config.yaml 已修改；重新检查 {ids}",
    "watch.took": "检查用时 {seconds:.2f} 秒 · 正在监视 {files}，按 Ctrl-C 停止。",
    "watch.config_broken": "仍在监视；config.yaml 能重新加载后，检查将继续。",
    "watch.file_gone": "{file} 不见了；再次保存后检查将继续。",
    "watch.stopped": "已停止监视。",
    "error.watch_alone": "--watch 会在每次保存后打印报告；不能与 --json 或 --plot 同时使用。",
    # --- points on the grading grid, and advice worded for a notebook ---
    "ui.points_public": "公开用例 {score:g}/{public:g} 分；另外 {pending:g} 分由老师评分时的隐藏用例决定（满分 {max_score:g}）",
    "ui.total_public": "总分：公开用例 {score:g}/{public:g} 分；另外 {pending:g} 分由老师评分时的隐藏用例决定（满分 {max_score:g}）",
    "ui.more_cases.notebook": "……还有 {count} 个未通过的用例；运行 grader.check(\"{id}\", verbose=True) 查看全部。",
    "ui.plot_hint.notebook": "查看曲线：grader.check(\"{id}\", plot=True)",
    **INSTRUCTOR,  # the class report, misconception titles, the Gradescope plugin
})
