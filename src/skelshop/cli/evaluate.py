"""`skelshop eval`: score identities against ground truth."""

from __future__ import annotations

import click

from skelshop.evaluation.score import evaluate
from skelshop.formats.truth import read_predictions, read_truth


@click.command(name="eval")
@click.argument("pred", type=click.Path(dir_okay=False))
@click.argument("truth", type=click.Path(dir_okay=False))
def evaluate_command(pred: str, truth: str) -> None:
    """Read PRED (identities.csv or seg,skel_id,label CSV) and TRUTH, print the scores.

    TRUTH is a CSV with columns video,seg,skel_id,label and optionally in_refs
    (true/false: whether the person is in the references and should be named).
    """
    result = evaluate(read_predictions(pred), read_truth(truth))
    ident = result.identification
    click.echo(f"tracks scored {result.tracks} (no prediction for {result.unmatched})")
    click.echo(f"identification  P={ident.precision:.3f} R={ident.recall:.3f} F={ident.f1:.3f} "
               f"(TP {result.true_positives}, FP {result.false_positives}, "
               f"FN {result.false_negatives})")
    click.echo(f"clustering      pairwise P={result.pairwise.precision:.3f} "
               f"R={result.pairwise.recall:.3f} F={result.pairwise.f1:.3f}; BCubed "
               f"P={result.bcubed.precision:.3f} R={result.bcubed.recall:.3f} "
               f"F={result.bcubed.f1:.3f}; NMI={result.nmi:.3f}")
