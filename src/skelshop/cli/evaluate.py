"""`skelshop eval`: score identities against ground truth."""

from __future__ import annotations

import click

UNSCORED_SHOWN = 5


@click.command(name="eval")
@click.argument("pred", type=click.Path(dir_okay=False))
@click.argument("truth", type=click.Path(dir_okay=False))
@click.option("--video", default=None, metavar="NAME",
              help="The video a seg,skel_id,label PRED is of (required for such a file; its "
                   "file name as in TRUTH). With identities.csv: score only this video.")
def evaluate_command(pred: str, truth: str, video: str | None) -> None:
    """Score PRED against TRUTH and print the scores (writes nothing).

    \b
    PRED:  identities.csv of `corpus run` (video,seg,skel_id,...,label,...), or one video's
           seg,skel_id,label CSV (`idsegs*`, `applymap`) with --video NAME.
    TRUTH: CSV video,seg,skel_id,label[,in_refs]; in_refs (true/false, default true) says
           whether the person is in the references and should be named.
    Identification precision/recall/F over (video, shot, track); pairwise and BCubed F and
    NMI of the grouping. Predicted tracks that TRUTH lacks are listed and not scored.
    """
    from skelshop.evaluation.score import evaluate
    from skelshop.formats.truth import read_predictions, read_truth

    result = evaluate(read_predictions(pred, video), read_truth(truth), video, truth)
    ident = result.identification
    click.echo(f"tracks scored {result.tracks} (no prediction for {result.unmatched})")
    click.echo(f"identification  P={ident.precision:.3f} R={ident.recall:.3f} F={ident.f1:.3f} "
               f"(TP {result.true_positives}, FP {result.false_positives}, "
               f"FN {result.false_negatives})")
    click.echo(f"clustering      pairwise P={result.pairwise.precision:.3f} "
               f"R={result.pairwise.recall:.3f} F={result.pairwise.f1:.3f}; BCubed "
               f"P={result.bcubed.precision:.3f} R={result.bcubed.recall:.3f} "
               f"F={result.bcubed.f1:.3f}; NMI={result.nmi:.3f}")
    if result.unscored:
        shown = ", ".join(f"{v or '?'} shot {s} track {t}"
                          for v, s, t in result.unscored[:UNSCORED_SHOWN])
        more = len(result.unscored) - UNSCORED_SHOWN
        click.echo(f"not in the truth, not scored: {len(result.unscored)} predicted track"
                   f"{'s' if len(result.unscored) != 1 else ''} ({shown}"
                   f"{f', and {more} more' if more > 0 else ''})")
