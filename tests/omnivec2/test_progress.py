"""Progress lines of a training stage, and the bars that fall back to plain lines off a terminal."""

import io

from omnivec2.progress import StageProgress, format_duration, progress_bar


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_a_stage_line_has_stage_step_loss_rate_and_eta():
    clock = FakeClock()
    progress = StageProgress("pretrain_unimodal", steps=100, first_step=20, clock=clock)
    clock.now += 8.0  # 40 steps in 8 s: 5 steps/s, 40 steps left -> 8 s
    assert progress.line(60, 1.23456) == "[omnivec2] pretrain_unimodal: step 60/100 loss 1.2346 | 5.00 steps/s | ETA 0:08"


def test_a_stage_line_before_any_time_passed_says_unknown():
    progress = StageProgress("train_multitask", steps=10, clock=FakeClock())
    assert progress.line(0, None) == "[omnivec2] train_multitask: step 0/10 loss n/a | ? steps/s | ETA ?"


def test_durations():
    assert format_duration(0) == "0:00" and format_duration(125) == "2:05" and format_duration(3725) == "1:02:05"
    assert format_duration(float("nan")) == "?"


def test_off_a_terminal_the_bar_prints_one_plain_line_per_item():
    out = io.StringIO()
    with progress_bar(3, "single-task baselines", stream=out) as bar:
        for task in ("image/digit", "audio/word", "tabular/cultivar"):
            bar.advance(task)
    lines = out.getvalue().splitlines()
    assert [line.split(" | ")[0] for line in lines] == [
        "[omnivec2] single-task baselines: 1/3 (image/digit)", "[omnivec2] single-task baselines: 2/3 (audio/word)",
        "[omnivec2] single-task baselines: 3/3 (tabular/cultivar)"]
    assert "\r" not in out.getvalue() and lines[-1].endswith("ETA 0:00")


def test_on_a_terminal_the_bar_is_tqdm():
    out = Terminal()
    with progress_bar(2, "ablation grid", stream=out) as bar:
        bar.advance("full, seed 0")
        bar.advance("no_cross_attention, seed 0")
    text = out.getvalue()
    assert "\r" in text and "ablation grid" in text and "2/2" in text and "[omnivec2]" not in text
