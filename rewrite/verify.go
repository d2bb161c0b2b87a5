package rewrite

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"sort"
	"strings"

	"github.com/env2vault/env2vault/migrate"
	"github.com/env2vault/env2vault/secret"
)

// VerifyOptions configure the preconditions Apply needs.
type VerifyOptions struct {
	// Backend is the plan's backend (migrate.Open).
	Backend migrate.Backend
	// Fingerprinter checks the backend's values against the plan's
	// fingerprints; without one, values are compared with the ones
	// Prepare re-read from the sources.
	Fingerprinter *secret.Fingerprinter
	// AllowDirty skips the clean-working-tree check.
	AllowDirty bool
}

// ErrNotMigrated reports secrets that are missing from the backend or
// hold a different value there.
var ErrNotMigrated = errors.New("secrets are not in the backend yet")

// ErrDirty reports repos whose tracked files have uncommitted changes.
var ErrDirty = errors.New("uncommitted changes")

// Verify checks the preconditions for Apply: every secret the changeset
// rewires is present in the backend with the planned value (by
// fingerprint), and every repo it changes has no uncommitted changes to
// tracked files (git status --porcelain --untracked-files=no), unless
// AllowDirty. Errors name secrets and repos, never values.
func (c *Changeset) Verify(ctx context.Context, o VerifyOptions) error {
	if len(c.secrets) > 0 && o.Backend == nil {
		return errors.New("rewrite: no backend to verify against")
	}
	var missing, differ []string
	for _, s := range c.secrets {
		cur, err := o.Backend.Get(ctx, s.target)
		if err != nil {
			return fmt.Errorf("checking %s in the backend: %w", s.name, err)
		}
		switch {
		case !cur.Exists:
			missing = append(missing, s.name)
		case o.Fingerprinter != nil && s.fingerprint != "":
			if !o.Fingerprinter.Matches(cur.Value, s.fingerprint) {
				differ = append(differ, s.name)
			}
		case !s.value.IsZero() && !cur.Value.Equal(s.value):
			// (A secret known only from already-rewritten references has
			// no value here; without a fingerprinter, presence is all
			// that can be checked.)
			differ = append(differ, s.name)
		}
	}
	if len(missing)+len(differ) > 0 {
		var parts []string
		if len(missing) > 0 {
			parts = append(parts, "missing: "+strings.Join(missing, ", "))
		}
		if len(differ) > 0 {
			parts = append(parts, "different value: "+strings.Join(differ, ", "))
		}
		return fmt.Errorf("%w (%s); run env2vault migrate first", ErrNotMigrated, strings.Join(parts, "; "))
	}
	if o.AllowDirty {
		return nil
	}
	var dirty []string
	for dir := range c.repos {
		clean, isGit, err := gitClean(ctx, dir)
		if err != nil {
			return err
		}
		if isGit && !clean {
			dirty = append(dirty, dir)
		}
	}
	if len(dirty) > 0 {
		sort.Strings(dirty)
		return fmt.Errorf("%w to tracked files in %s: commit or stash them first so the rewrite is its own reviewable change (or pass --allow-dirty)",
			ErrDirty, strings.Join(dirty, ", "))
	}
	return nil
}

// gitClean reports whether dir's tracked files are unchanged; isGit is
// false when dir is not in a git work tree.
func gitClean(ctx context.Context, dir string) (clean, isGit bool, err error) {
	probe := exec.CommandContext(ctx, "git", "-C", dir, "rev-parse", "--is-inside-work-tree")
	if out, err := probe.Output(); err != nil || strings.TrimSpace(string(out)) != "true" {
		return true, false, nil
	}
	cmd := exec.CommandContext(ctx, "git", "-C", dir, "status", "--porcelain", "--untracked-files=no")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return false, true, fmt.Errorf("git status in %s: %v: %s", dir, err, strings.TrimSpace(stderr.String()))
	}
	return len(bytes.TrimSpace(out)) == 0, true, nil
}
