"""English catalogue: every sentence a student or instructor reads, by key."""

from types import MappingProxyType

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
    "hint.endless_loop": "Stopped after {seconds} s: f never returned. The loop `while b.norm() < 1000` must end: "
                            "b has to grow each time round (b = b * 2) and nothing may reset it.",
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
                          "For a vector y, back-propagate its sum: `y.sum().backward()`, or pass a gradient of ones: "
                          "`y.backward(torch.ones_like(y))`.",
    "backward_twice": "{file}, line {line}: {error}\n    {code}\nThe graph is freed after backward(). Compute y again before "
                      "a second backward (or pass retain_graph=True to the first).",
    "inplace_leaf": "{file}, line {line}: {error}\n    {code}\nDo not modify x in place once it requires grad; build new "
                    "tensors (y = 2 * x) instead of x *= 2.",
    "out_of_memory": "{file}, line {line}: your code ran out of memory ({error}). Look for a tensor that grows without bound.",
    "zero_none_grad": "{file}, line {line}: {error}\n    {code}\nx.grad is still None here: call backward() first, then "
                      "clear it with `x.grad.zero_()`.",
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
})
