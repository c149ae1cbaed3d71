"""Lightning callbacks trainlab adds to every run: safe stops on SIGINT/SIGTERM."""
