"""The sandboxed runner: worker pool, zygote, child harness, wire format, calling protocol."""
