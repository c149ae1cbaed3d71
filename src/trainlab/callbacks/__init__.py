"""Lightning callbacks: safe stops on SIGINT/SIGTERM (added to every run), and the console's own (chosen in
conf/callbacks/): a line per epoch, a terminal-only progress bar and a summary of the net."""
