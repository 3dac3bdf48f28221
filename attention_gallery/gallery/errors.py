"""How a build stops: every refusal and failure the command line reports in one line."""


class BuildError(RuntimeError):
    """A build that stopped; the message says why and what was kept."""


class BuildInterrupted(BuildError):
    """Ctrl-C (or a kernel that died) stopped the build; nothing was published."""
