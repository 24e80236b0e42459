//! The live streams of one worker.
