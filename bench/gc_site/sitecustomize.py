"""An experiment of ``python -m bench.run pdf --engines weasyprint,weasyprint-gc``: Python's
cyclic garbage collector run far less often while WeasyPrint lays out (its boxes are millions
of young objects, each generation-0 pass walks them again). Put on ``PYTHONPATH`` for the
render process and the layout workers it starts; the product sets nothing of the kind."""
import gc

gc.set_threshold(50_000, 50, 100)
