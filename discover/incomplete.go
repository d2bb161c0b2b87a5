package discover

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// ErrIncomplete marks a scan that could not read everything that may
// hold secrets (see Result.Incomplete).
var ErrIncomplete = errors.New("the scan is incomplete")

// IncompleteError returns nil when Incomplete is empty, else an error
// wrapping ErrIncomplete that names the first few paths and why, for a
// command to print. It never holds file content.
func (r *Result) IncompleteError() error {
	inc := r.Incomplete()
	if len(inc) == 0 {
		return nil
	}
	const show = 10
	var b strings.Builder
	noun := "files or folders"
	if len(inc) == 1 {
		noun = "file or folder"
	}
	fmt.Fprintf(&b, "%d %s that may hold secrets could not be read; secrets in them are missing from the results:", len(inc), noun)
	for i, s := range inc {
		if i == show {
			fmt.Fprintf(&b, "\n  ... and %d more (listed under skipped in the report)", len(inc)-show)
			break
		}
		fmt.Fprintf(&b, "\n  %s: %s", s.Path, s.Reason)
		if s.Detail != "" {
			fmt.Fprintf(&b, ": %s", s.Detail)
		}
	}
	return fmt.Errorf("%w: %s", ErrIncomplete, b.String())
}

// Details of skips that mean "there is nothing to read" rather than "could
// not read it".
const (
	detailBrokenSymlink = "broken symlink"
	detailSelfLink      = "symlink points back to itself"
)

// Incomplete returns the skipped paths that may hold secrets this result
// does not report, in the order they were skipped:
//
//   - every malformed .env file (entries after the bad line are missing);
//   - every file or folder that could not be read (permission denied, an
//     I/O error), and git history that could not be searched (git-error);
//   - an .env file (by name) skipped for any reason: binary, too large,
//     not a regular file, a broken or looping symlink.
//
// Folders in the skip list, folder symlinks (never followed), and binary,
// too large, special or dangling entries that are not .env files are
// deliberate or hold nothing to read: they are listed in Skipped only.
func (r *Result) Incomplete() []Skip {
	var out []Skip
	for _, s := range r.Skipped {
		if incomplete(s) {
			out = append(out, s)
		}
	}
	return out
}

func incomplete(s Skip) bool {
	switch s.Reason {
	case SkipMalformed, SkipGit:
		return true
	case SkipIgnoredDir, SkipSymlinkDir:
		return false
	}
	if IsEnvFile(filepath.ToSlash(s.Path)) {
		return true
	}
	return s.Reason == SkipUnreadable && s.Detail != detailBrokenSymlink
}
