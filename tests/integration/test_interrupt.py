"""Ctrl-C before any part file is finished: exit 130, nothing published, nothing left behind.
(Ctrl-C after parts finished keeps them for a resume: test_resume.py.)"""
import os
import signal
import subprocess
import time

import datagen
from harness import BIN, TempDirTest, all_files


class InterruptTest(TempDirTest):
    def test_sigint_while_reading_leaves_nothing(self):
        src = os.path.join(self.tmp, "chat.jsonl")
        datagen.write_jsonl(src, 100_000)
        dest = os.path.join(self.tmp, "out")
        proc = subprocess.Popen([BIN, "export", "--input", src, "--split", "train=0.8,test=0.2", "--split-key", "id",
                                 "--dest", dest, "--run-id", "r", "--target-file-size", "16KiB", "--progress", "never"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 120
        # Wait until the run's journal exists (the input is being read), then interrupt.
        while time.time() < deadline and not os.path.exists(os.path.join(dest, "r", "_journal", "run.json")):
            self.assertIsNone(proc.poll(), "export ended before it could be interrupted")
            time.sleep(0.002)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
        self.assertEqual(proc.returncode, 130, err)
        self.assertIn("interrupted", err)
        self.assertEqual(all_files(dest), [])
