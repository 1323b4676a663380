"""Figures of the Model Privacy paper and its neighbours, one function each."""

from ._registry import FIGURES, FigureOutput, get_figure, register

__all__ = ["FIGURES", "FigureOutput", "get_figure", "register"]
