"""The exception vexpr adds to numexpr's set."""


class UnsupportedDTypeError(TypeError, ValueError):
    """An input whose dtype vexpr does not compute with (Unicode strings,
    objects, dates, long doubles...).

    A ``TypeError`` naming the dtype; also a ``ValueError``, the type numexpr
    raises in this case, so that code written for numexpr catches it.
    """
