"""English catalogue: every sentence a student or instructor reads, by key."""

from types import MappingProxyType

from grader.catalog.en_instructor import INSTRUCTOR

MESSAGES = MappingProxyType({
    # --- the whole exercise -------------------------------------------------
    "not_attempted": "Not attempted yet: the function still raises NotImplementedError. Replace "
                     "`raise NotImplementedError` with your code.",
    "not_submitted": "Not submitted: there is no {file}.",
    "file_too_large": "{file} is {size} bytes; an exercise file must stay under 1 MiB.",
    "not_utf8": "{file} is not UTF-8 text (first bad byte on line {line}); save it as UTF-8 and try again.",
    "unreadable": "{file} cannot be read ({error}).",
    "syntax_error": "{file}, line {line}: SyntaxError: {error}\n    {code}\nFix the syntax on that line (check brackets, "
                    "colons and indentation).",
    "import_error": "{file}, line {line}: cannot import '{module}'. Check the spelling; only torch, numpy, math and "
                    "the standard library are available.",
    "raised_at_import": "{file}, line {line}: {type}: {error}\n    {code}\nThe file fails while it is loaded, "
                        "before your function is called.",
    "missing_function": "{file} defines no function `{function}` (found: {defined}). Keep the function name and "
                        "signature from the exercise stub.",
    "timeout": "Stopped after {seconds} s: your code did not finish in its time budget. Look for a loop that never ends.",
    "timeout.loop": "Stopped after {seconds} s: your code did not finish in its time budget. Look at the loop on "
                    "line {line}, `{loop}`: can its condition ever become false for this input?",
    "timeout.loop_case": "Stopped after {seconds} s: your code did not finish on the case {case}. Look at the loop "
                         "on line {line}, `{loop}`: can its condition ever become false for this input?",
    "hint.endless_loop.loop_case": "Stopped after {seconds} s: on the case {case}, f never returned: your loop on line "
                                   "{line}, `{loop}`, never ended for it. It must end for every a, negative ones too: "
                                   "b has to grow in size each time round (b = b * 2), nothing may reset it, and the "
                                   "book's condition `b.norm() < 1000` does not depend on the sign of b.",
    "hint.endless_loop": "Stopped after {seconds} s: f never returned. The book's loop `while b.norm() < 1000` ends "
                         "because b doubles each time round (b = b * 2) and nothing resets it; look for a loop in "
                         "your f that never ends.",
    "hint.endless_loop.loop": "Stopped after {seconds} s: f never returned, so your loop on line {line}, `{loop}`, "
                              "never ended for some a the grader passed. It must end for every a, negative ones "
                              "too: b has to grow in size each time round (b = b * 2), nothing may reset it, and "
                              "the book's condition `b.norm() < 1000` does not depend on the sign of b.",
    "memory_exceeded": "Your code used more than its {limit} MiB of memory and was stopped. Look for a tensor or "
                       "a list that grows without bound (or a loop that never ends).",
    "crashed": "Your code crashed the Python process (signal {signal}). This is usually native code misuse "
               "(ctypes, an out-of-range low-level call).",
    "no_result": "Your code ended the process before returning (exit code {code}): do not call sys.exit(), "
                 "os._exit() or quit() in an exercise.",
    "invalid_result": "Your code's result could not be read back safely ({detail}); return plain tensors.",
    "grader_error": "The grader itself failed on this exercise ({detail}); this is not your fault, and it will be "
                    "graded again. Tell your instructor if this stays.",
    "sandbox_failed": "The grader could not isolate your code on this machine; this is not your fault. Tell your "
                      "instructor.",
    "submission_unreadable": "The submission {name} cannot be read ({error}).",
    "submission_too_deep": "The submission {name} holds no exercise file within {depth} folder levels and "
                           "{entries} entries; put the exercise files at its top.",
    "submission_empty": "The submission {name} is empty: it holds no exercise files.",
    "zip_corrupt": "{name} is not a readable zip archive (damaged or incomplete); upload it again.",
    "notebook_corrupt": "{name} is not a readable Jupyter notebook ({error}); save it from Jupyter again.",
    "canvas_unnamed": "{file} in the Canvas download is not named lastfirst_userid_fileid_name, so its student "
                      "cannot be told; grade it by hand or download the submissions from Canvas again.",
    "canvas_unplaced": "{file} was not graded: it is not an exercise file (name it like ex03_sum_backward.py or "
                       "ex03.py), a notebook or a zip holding them.",
    "canvas_nothing_placed": "None of the files handed in ({files}) is an exercise file, a notebook or a zip holding "
                             "them; name each file like ex03_sum_backward.py and resubmit.",
    # --- errors raised while a case ran ------------------------------------
    "raised": "{file}, line {line}: {type}: {error}\n    {code}",
    "no_requires_grad": "{file}, line {line}: {error}\n    {code}\nbackward() needs a graph: call `x.requires_grad_(True)` on "
                        "the input BEFORE computing y (the grader passes a tensor that does not require grad).",
    "nonscalar_backward": "{file}, line {line}: {error}\n    {code}\nbackward() without arguments only works on a scalar. "
                          "{name} is a vector: back-propagate its sum, `{name}.sum().backward()`, or pass a gradient "
                          "of ones: `{name}.backward(torch.ones_like({name}))`.",
    "backward_twice": "{file}, line {line}: {error}\n    {code}\nThe graph is freed after backward(). Compute y again before "
                      "a second backward (or pass retain_graph=True to the first).",
    "inplace_leaf": "{file}, line {line}: {error}\n    {code}\nDo not modify x in place once it requires grad; build new "
                    "tensors (y = 2 * x) instead of x *= 2.",
    "out_of_memory": "{file}, line {line}: your code ran out of memory ({error}). Look for a tensor that grows without bound.",
    "zero_none_grad": "{file}, line {line}: {error}\n    {code}\n{name}.grad is None here: autograd fills .grad only on "
                      "the leaves it differentiates with respect to (the input, not a result computed from it), and "
                      "only once backward() has run. Clear the input's gradient after a backward: `x.grad.zero_()`.",
    "called_exit": "{file}, line {line}: your code called sys.exit(); return a value instead.",
    "recursion": "{file}, line {line}: {error}: a function calls itself without end.",
    # --- what came back -----------------------------------------------------
    "grad_none": "{noun} is None: autograd computed no gradient for the input. Call `x.requires_grad_(True)` before "
                 "computing, then call `backward()` on the result.",
    "returned_none": "{noun}: your function returned None. Did you forget `return`?",
    "returned_number": "{noun} is a Python {type}, not a tensor: return the tensor itself (not `y.item()` or "
                       "`float(y)`), so its grad_fn and gradient can be checked.",
    "returned_sequence": "{noun} is a {type} of {length} items; return a single tensor here.",
    "returned_other": "{noun} is an object of type {type}, not a torch.Tensor.",
    "returned_not_pair": "Return the pair `{names}`: your function returned a {type}.",
    "returned_not_tuple": "Return the tuple `{names}` of {length} items: your function returned a {type}.",
    "tensor_subclass": "{noun} is a {type}, a subclass of torch.Tensor; return a plain torch.Tensor.",
    "tensor_too_large": "{noun} has shape {shape}, far larger than the input; return a tensor shaped like x.",
    "no_grad_fn": "{noun} has no grad_fn: it is not connected to x's graph. Compute it from x with tensor operations "
                  "after `x.requires_grad_(True)`, and do not detach it or wrap it in torch.no_grad().",
    "mismatch": "{noun} is not what autograd should give.",
    # --- recognised wrong answers ------------------------------------------
    "hint.accumulated_twice": "x.grad is 8x, twice 4x: backward ran twice and gradients ACCUMULATE in x.grad. "
                             "Call y.backward() once (or zero x.grad before calling it again).",
    "hint.scaled_gradient": "x.grad is {k:g} times the right gradient: check the constant factor and how often "
                       "backward() runs (gradients accumulate).",
    "hint.not_zeroed": "x.grad is 4x + 1: the first gradient (4x) is still there, because gradients ACCUMULATE. "
                       "Clear it before the second backward: `x.grad.zero_()` (or `x.grad = None`).",
    "hint.first_gradient_only": "x.grad is 4x, the gradient of the first y: call backward() on the second y = x.sum().",
    "hint.returned_first_y": "y is 2xᵀx, the first y: return the second one, y = x.sum().",
    "hint.weighted_backward": "x.grad is {k:g} × 2x: the gradient argument of backward() weights each element. To sum "
                              "the per-element derivatives pass ones: `y.backward(torch.ones_like(y))` "
                              "(or call `y.sum().backward()`).",
    "hint.returned_sum": "y is the sum of x⊙x: return the vector y = x * x itself (sum only for backward).",
    "hint.through_detach": "x.grad is 3x²: the gradient flowed through y = x * x as well. Use `u = y.detach()` so u "
                           "is a constant, then z = u * x gives x.grad = u.",
    "not_detached": "{noun} still requires grad (grad_fn {grad_fn}): create it with `y.detach()`, which cuts "
                            "it out of the graph.",
    "not_detached.requires_grad": "{noun} requires grad again: it was detached, then `requires_grad_()` made it a "
                                  "leaf that tracks gradients. Keep `y.detach()` as it is, without requires_grad_.",
    "no_grad_fn.call_backward": "{noun} has no grad_fn, so the graph is broken: `.item()`, Python floats, `float(...)` or "
                         "`torch.tensor(...)` cut it. Stay in tensor operations on `a` (b = a * 2, b.norm(), "
                         "b.sum()) from start to end.",
    "banned": "Line {line} uses {op}:\n    {code}\nThis exercise asks for the result WITHOUT {op}: let autograd compute "
              "it (make the input require grad, compute, call backward()) (lines using {op}: {lines}).",
    "banned.cos": "Line {line} uses a cosine:\n    {code}\nThe exercise is to get the derivative WITHOUT cos: "
                     "set `x.requires_grad_(True)`, compute `y = torch.sin(x)`, call `y.sum().backward()` and return "
                     "`x.grad` (cosine on lines: {lines}).",
    "source_check_gated": "No cosine found; this check counts once your derivative is right.",
    "hint.returned_sin": "You returned sin(x) itself: return its derivative, `x.grad` after `y.sum().backward()`.",
    "hint.negated_cosine": "Your result is -cos(x): check the sign.",
    # --- diagnosis from what the code did ---
    "hint.new_leaf": "{input}.grad is None although you called requires_grad_ — on a new tensor you made ({ops}), "
                     "not on the {input} the grader passed, so backward() filled that tensor's .grad instead. Call "
                     "`{input}.requires_grad_(True)` on {input} itself and compute from {input} (no torch.tensor(...), "
                     "torch.arange(...), .float() or .clone() copies).",
    "hint.new_leaf.call_backward": "{function} builds its result from a new tensor ({ops}) instead of from {input}, so the "
                                   "grader's backward never reaches {input}.grad. Compute from {input} itself with "
                                   "tensor operations; the grader already makes {input} require grad.",
    "hint.grad_disabled": "The computation ran with gradient tracking switched off (torch.no_grad(), "
                          "torch.inference_mode() or set_grad_enabled(False)), so no graph was recorded and "
                          "nothing reached {input}.grad. Compute y outside such blocks.",
    "hint.grad_disabled.call_backward": "{function} computes under torch.no_grad() (or inference_mode / set_grad_enabled(False)), "
                                        "so its result has no graph back to {input}. Compute without those blocks.",
    "hint.backward_in_f": "Line {line}: {function} calls backward itself, but in this exercise the grader back-propagates "
                          "what {function} returns. Remove the backward call from {function} and just return the result.",
    "hint.backward_in_f.nowhere": "{function} calls backward itself, but in this exercise the grader back-propagates "
                                  "what {function} returns. Remove the backward call from {function} and just return "
                                  "the result.",
    "hint.returned_grad": "{noun} is {input}.grad, the gradient, not the value: return {noun} itself (the grader reads "
                          "{input}.grad on its own).",
    "hint.returned_input": "You returned {input} itself: return {noun}, the value computed from {input}.",
    "hint.swapped_outputs": "The items of your tuple are in the wrong order: you returned {yours}; return {names}.",
    "hint.hard_coded_size": "This input has another length or dtype than the book's example, and your code fails on it: "
                            "something is fixed to the example (torch.ones(4), torch.zeros(4), range(4), a typed-in "
                            "tensor). Build such tensors from {input}: torch.ones_like({input}), torch.zeros_like({input}), "
                            "range(len({input})).",
    "hint.mean_backward": "{input}.grad is the right gradient divided by {n}: you back-propagated the mean (y.mean()), "
                          "which divides by the number of elements. Back-propagate the sum instead: `y.sum().backward()`.",
    "hint.finite_difference": "{noun} is close to the derivative but not equal to it: it looks estimated with a "
                              "difference quotient (f(x + h) − f(x)) / h. Let autograd compute the exact derivative "
                              "(backward(), then x.grad).",
    "hint.own_grid": "You computed on points of your own ({ops}) instead of the {input} the grader passes: compute "
                     "the derivative at the given {input}.",
    "hint.not_from_autograd.swap": "Your result does not come out of autograd's backward pass: the grader ran your "
                                   "function again with autograd's derivative changed, and your result did not "
                                   "change with it. Compute from the given {input}, call backward (or "
                                   "torch.autograd.grad), and return the gradient autograd computed, unchanged.",
    "withheld_not_from_autograd": "No points for this value: it was not obtained from autograd the way the exercise "
                                  "requires (see the autograd check below).",
    "hint.not_from_autograd": "Your result does not come out of autograd: compute from the given {input}, "
                              "back-propagate, and return the gradient left in {input}.grad (or what "
                              "torch.autograd.grad returns).",
    "hint.not_from_autograd.through": "The backward pass did not go through {nodes} of the given {input}: compute "
                                      "from {input} itself, back-propagate the sum and return {input}.grad.",
    "hint.not_from_autograd.custom": "The derivative came from backward code you wrote yourself (a custom "
                                     "autograd.Function or a hook), not from autograd's own rule for sin: use "
                                     "torch.sin and let autograd differentiate it.",
    "hint.cos_outside_backward": "Your code computes a cosine outside autograd (however it is written: torch.cos, "
                                 "getattr, sin(x + π/2), a complex exponential, numpy or math). The exercise is to get "
                                 "the derivative WITHOUT cos: compute `y = torch.sin(x)`, call `y.sum().backward()` and "
                                 "return `x.grad`.",
    "hint.banned_outside_backward": "Your code computes {op} outside autograd, which this exercise forbids: let "
                                    "autograd compute the derivative (backward(), then x.grad).",
    "hint.retain_graph_twice": "backward() ran {count} times (retain_graph=True kept the graph for the next one) and "
                               "gradients ACCUMULATE in {input}.grad. Call backward() once, without retain_graph.",
    "hint.grad_assigned": "{input}.grad was written by hand, and no backward() ran: let autograd fill it — compute y "
                          "from {input} after `{input}.requires_grad_(True)` and call `y.backward()`.",
    "backward_twice.once": "Line {line}: {error}\nbackward() ran a second time on a graph that the first one already "
                           "freed. Call backward() once for each y you compute.",
    "backward_twice.once.nowhere": "{error}\nbackward() ran a second time on a graph that the first one already freed. "
                                   "Call backward() once for each y you compute.",
    "raised.unlocated": "{error}",
    "raised.grader_backward": "The grader's own backward() on what your function returned failed: {error}. Return a "
                              "scalar tensor computed from the input with tensor operations.",
    "grad_none.call_backward": "{noun} is None: what {function} returned is not connected to its input, so the grader's "
                               "backward() could not reach it. Stay in tensor operations on the input from start to end.",
    "hint.detached_wrong": "x.grad is 2x²: x was detached instead of y, so the gradient still flowed through u = y. "
                           "Detach y, not x: `u = y.detach()`, then `z = u * x`.",
    "hint.detached_wrong.backward": "Line {line}: backward() was called on a result that detach() cut from the "
                                    "graph:\n    {code}\nDetach only the tensor that must act as a constant "
                                    "(u = y.detach()), never the one you back-propagate.",
    "hint.finite_difference.estimate": "The derivative was estimated with a difference quotient (f(x + h) − f(x)) / h, "
                                       "not computed by autograd: back-propagate and return {input}.grad.",
    "hint.new_leaf.partial": "Part of the computation ran on a new tensor you made ({ops}) instead of {input} itself, "
                             "so its gradient went to that tensor, not to {input}.grad. Keep computing from {input} "
                             "(to start a fresh gradient, clear {input}.grad instead of copying {input}).",
    "hint.vector_not_scalar": "{noun} is a vector of shape {shape}, but it must be a scalar (a 0-dim tensor): "
                              "reduce it, e.g. with torch.dot or .sum().",
    "hint.detached_wrong.order": "x.grad is 3x²: u is detached, but z was computed from y before (or instead of) "
                                 "u, so the gradient flowed through y. Detach first, then multiply: `u = y.detach()`, "
                                 "`z = u * x`.",
    "hint.cos_outside_backward.line": "Line {line} computes a cosine outside autograd:\n    {code}\nThe exercise is to "
                                      "get the derivative WITHOUT cos: compute `y = torch.sin(x)`, call "
                                      "`y.sum().backward()` and return `x.grad` (cosine on lines: {lines}).",
    "hint.banned_outside_backward.line": "Line {line} computes {op} outside autograd, which this exercise forbids:\n"
                                         "    {code}\nLet autograd compute the derivative (lines using {op}: {lines}).",
    "hint.zeroed_after_backward": "x.grad is all zeros: it was cleared after the second backward, which wiped the "
                                  "gradient you needed. Clear it BETWEEN the two backward passes: first backward, "
                                  "`x.grad.zero_()`, then the second backward.",
    "hint.missing_branch": "d is f(a) / 100 here: for this a (b.sum() <= 0) f must return c = 100 * b, but your f "
                           "returned b. Check the if/else at the end of f.",
    "hint.fixed_iterations": "d is {k:g} × f(a): b was doubled a fixed number of times. The loop must run while "
                             "b.norm() < 1000, so how often it doubles depends on a.",
    "misconception.zeroed_after_backward": "Cleared x.grad after the last backward instead of between the two",
    "misconception.missing_branch": "ex05: the else branch (c = 100 * b) is missing or never taken",
    "misconception.fixed_iterations": "ex05: a fixed number of doublings instead of the data-dependent while loop",
    "mismatch.grad": "{noun} differs from the expected gradient.",
    "mismatch.value": "{noun} differs from the expected value.",
    "misconception.new_leaf": "Made a new tensor require grad instead of the given input",
    "misconception.grad_disabled": "Computed under torch.no_grad() / inference_mode",
    "misconception.backward_in_f": "Called backward inside f, which the grader back-propagates itself",
    "misconception.returned_grad": "Returned x.grad (or a.grad) instead of the value",
    "misconception.swapped_outputs": "Returned the tuple's items in the wrong order",
    "misconception.returned_input": "Returned the input itself",
    "misconception.hard_coded_size": "Sizes fixed to the book's example: fails on other lengths",
    "misconception.mean_backward": "Back-propagated y.mean(): gradient divided by n",
    "misconception.finite_difference": "Estimated the derivative by a finite difference",
    "misconception.own_grid": "Used a grid of its own instead of the given x",
    "misconception.withheld_not_from_autograd": "Right value, not obtained from autograd: its points withheld",
    "misconception.not_from_autograd": "Result does not come out of autograd over sin of x",
    "misconception.cos_outside_backward": "Computed a cosine outside autograd (ex06 cheat)",
    "misconception.banned_outside_backward": "Computed a forbidden function outside autograd",
    "misconception.retain_graph_twice": "Two backward passes with retain_graph=True: gradient accumulated",
    "misconception.detached_wrong": "Detached the wrong tensor",
    "misconception.vector_not_scalar": "Returned a vector where a scalar is expected",
    "misconception.grad_assigned": "Wrote x.grad by hand instead of calling backward()",
    # --- the report's own words --------------------------------------------
    "ui.passed": "passed",
    "ui.failed": "failed",
    "ui.status.passed": "passing",
    "ui.status.failed": "failing",
    "ui.status.not_attempted": "not started",
    "ui.status.not_submitted": "not submitted",
    "ui.status.error": "error",
    "ui.case": "case {describe}",
    "ui.hidden_case": "hidden case: {describe}",
    "ui.points": "{score:g}/{max_score:g} points",
    "ui.total": "Total: {score:g}/{max_score:g} points",
    "ui.all_passed": "All checks passed. 🎉",
    "ui.shape": "Shapes differ: expected {expected}, got {actual}.",
    "ui.dtype": "Dtypes differ: expected {expected}, got {actual}.",
    "ui.values": "Mismatched elements: {mismatched} / {total} ({percent:.1f}%)",
    "ui.max_abs": "Greatest absolute difference: {diff:.6g} at index {index} (up to {atol:g} allowed)",
    "ui.max_rel": "Greatest relative difference: {diff:.6g} at index {index} (up to {rtol:g} allowed)",
    "ui.sample": "index {index}: expected {expected:.6g}, got {actual:.6g}",
    "ui.output": "Your code printed ({dropped} more bytes not shown):",
    "ui.output_short": "Your code printed:",
    "ui.plot_hint": "See the curves: grader check {id} --plot",
    "ui.plot_written": "Plot written to {path}",
    "ui.same_cause": "(same cause as above)",
    "ui.more_cases": "… and {count} more failing case(s); run with -v to see them all.",
    "ui.list_header": "{id}  {title}  ({points:g} pts)  {status}",
    "ui.sandbox_missing": "Isolation: {layers} not available here ({reasons}); using the strongest remaining.",
    "ui.hidden_checks": "{label} (hidden cases)",
    # --- grader check ex06 --plot -------------------------------------------------------------
    "plot.title": "{id} · sin(x) and its derivative",
    "plot.expected": "expected d sin(x)/dx",
    "plot.yours": "your derivative",
    "plot.nothing": "no derivative to plot",
    # --- errors a student can meet on the command line (one sentence each) -----------------------
    "error.no_config_at": "{root}: no config.yaml there; point --course at the course folder.",
    "error.not_in_course": "{here}: not inside a course folder (none of its parents has config.yaml and exercises/); "
                           "cd into the course folder or pass --course DIR.",
    "error.unknown_exercise": "unknown exercise {name}; choose from {choices}.",
    "error.which_exercise": "cannot tell which exercise {file} is; name it, e.g. grader check ex03 --file {file}",
    "error.file_needs_one": "--file checks one exercise; name exactly one, e.g. grader check ex03 --file my_ex03.py",
    "error.no_such_file": "{file}: no such file.",
    "error.case_not_shipped": "{file}: has no expected values for {exercise} case {case}; this copy can only run the "
                              "public cases its instructor shipped.",
    "error.expected_stale": "{file}: expected values for {exercise} case {case} were made for other inputs; "
                            "config.yaml changed since `grader dist` — ask for a fresh copy.",
    "error.no_expected": "{root}: has neither solutions/ nor {file}; run grader in the course folder you were given, "
                         "or ask for a fresh copy.",
    "error.expected_damaged": "{file}: is damaged; ask for a fresh copy.",
    # --- grader check --watch -------------------------------------------------------------------
    "watch.checking": "{time} · checking {ids}",
    "watch.rechecking": "{time} · {files} saved; re-checking {ids}",
    "watch.config_changed": "{time} · config.yaml changed; re-checking {ids}",
    "watch.took": "Checked in {seconds:.2f} s · watching {files}, Ctrl-C to stop.",
    "watch.config_broken": "Still watching; the checks resume once config.yaml loads again.",
    "watch.file_gone": "{file} is gone; the check resumes when it is saved again.",
    "watch.stopped": "Stopped watching.",
    "error.watch_alone": "--watch prints the report after every save; it cannot be combined with --json or --plot.",
    # --- points on the grading grid, and advice worded for a notebook ---
    "ui.points_public": "{score:g}/{public:g} points from public cases; hidden cases decide the other {pending:g} "
                        "when your instructor grades ({max_score:g} in all)",
    "ui.total_public": "Total: {score:g}/{public:g} points from public cases; hidden cases decide the other "
                       "{pending:g} when your instructor grades ({max_score:g} in all)",
    "ui.more_cases.notebook": "… and {count} more failing case(s); run grader.check(\"{id}\", verbose=True) to see them all.",
    "ui.plot_hint.notebook": "See the curves: grader.check(\"{id}\", plot=True)",
    **INSTRUCTOR,  # the class report, misconception titles, the Gradescope plugin
})
