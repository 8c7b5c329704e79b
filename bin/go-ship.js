#!/usr/bin/env node
// The go-ship CLI: runs any go-ship action outside GitHub (locally, in GitLab CI, from a Makefile).
import '../dist/cli/index.js';
