// Package rewrite implements the `env2vault rewrite` command.
package rewrite

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/env2vault/env2vault/discover"
	"github.com/env2vault/env2vault/internal/cli"
	"github.com/env2vault/env2vault/migrate"
	"github.com/env2vault/env2vault/plan"
	rw "github.com/env2vault/env2vault/rewrite"
	"github.com/env2vault/env2vault/rewrite/langs"
	"github.com/env2vault/env2vault/secret"
)

// Options are the command's inputs.
type Options struct {
	IO         *cli.IOStreams
	PlanPath   string
	DryRun     bool
	Yes        bool
	Langs      []string
	AllowDirty bool

	// Seams for tests; nil means the real thing.
	Resolve     func(ctx context.Context, loc discover.Location) (secret.Value, error)
	OpenBackend func(ctx context.Context, b plan.Backend) (migrate.Backend, error)
	Languages   []rw.Language
}

// NewCmd returns the `rewrite` command.
func NewCmd(ios *cli.IOStreams) *cobra.Command {
	opts := &Options{IO: ios}
	cmd := &cobra.Command{
		Use:   "rewrite --plan FILE [--dry-run] [--yes] [--lang go,python,js] [--allow-dirty]",
		Short: "Rewrite code and config to read migrated secrets from the vault",
		Long: `Rewrite changes each repo in the plan so that migrated secrets are read
from the backend instead of .env files and hardcoded literals:

  - Go, Python and JavaScript/TypeScript reads of planned keys (and
    hardcoded values) go through a small generated helper package that
    looks them up at run time (ENV2VAULT_ENV picks the environment, default
    dev); config reads such as PORT or DEBUG are left alone.
  - .env values become references (vault://MOUNT/PATH#FIELD, gcp-sm://...,
    aws-sm://...) that "env2vault run" resolves; .env.example lists the keys.
  - docker-compose values become ${VAR}, GitHub Actions values
    ${{ secrets.NAME }}, Dockerfile ARG/ENV secrets BuildKit secret mounts
    or runtime injection, Kubernetes Secret data an ExternalSecret.
  - .gitignore gains the .env rules it lacks, and .pre-commit-config.yaml
    the gitleaks hook.
  - Frontend keys (shipped to browsers) are flagged, not rewritten.

--dry-run prints a unified diff of every change, with secret values masked
as ****, and writes nothing. Otherwise rewrite first checks that every
secret it rewires is in the backend with the planned value and that the
repos have no uncommitted changes to tracked files (--allow-dirty skips
that), then writes each file atomically. Without a terminal, --yes is
required.

Exit status: 0 on success (or a dry run), 2 on bad input or a failed
precondition.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return run(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.PlanPath, "plan", "", "plan file written by `env2vault plan` (required)")
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "print the diff (values masked) and change nothing")
	cmd.Flags().BoolVarP(&opts.Yes, "yes", "y", false, "apply without asking (required without a terminal)")
	cmd.Flags().StringSliceVar(&opts.Langs, "lang", nil, "only rewrite code in these languages: go, python, js")
	cmd.Flags().BoolVar(&opts.AllowDirty, "allow-dirty", false, "rewrite even when tracked files have uncommitted changes")
	return cmd
}

func run(ctx context.Context, o *Options) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ios := o.IO
	if o.PlanPath == "" {
		return &cli.ExitError{Code: cli.ExitFailure, Err: errors.New("--plan is required (write one with `env2vault plan`)")}
	}
	for _, l := range o.Langs {
		if _, err := rw.NormalizeLanguage(l); err != nil {
			return &cli.ExitError{Code: cli.ExitFailure, Err: fmt.Errorf("--lang: %w", err)}
		}
	}
	if !o.DryRun && !o.Yes && !ios.InTTY {
		return &cli.ExitError{Code: cli.ExitFailure, Err: errors.New("refusing to change files without a terminal to confirm on: pass --yes (or --dry-run to look first)")}
	}
	p, err := plan.Load(o.PlanPath)
	if err != nil {
		return &cli.ExitError{Code: cli.ExitFailure, Err: err}
	}
	fp, err := secret.LoadFingerprinter()
	if err != nil {
		return &cli.ExitError{Code: cli.ExitFailure, Err: err}
	}
	languages := o.Languages
	if languages == nil {
		languages = langs.All()
	}
	cs, err := rw.Prepare(ctx, p, rw.Options{Languages: languages, Only: o.Langs, Resolve: o.Resolve, Fingerprinter: fp})
	if err != nil {
		return &cli.ExitError{Code: cli.ExitFailure, Err: err}
	}
	if len(cs.Files) == 0 {
		fmt.Fprintln(ios.ErrOut, "Nothing to rewrite.")
		printNotes(ios.ErrOut, cs)
		return nil
	}
	if o.DryRun {
		if err := cs.Diff(ios.Out); err != nil {
			return err
		}
		fmt.Fprintf(ios.ErrOut, "\nDry run: %d file(s) would change; nothing was written.\n", len(cs.Files))
		printNotes(ios.ErrOut, cs)
		return nil
	}
	open := o.OpenBackend
	if open == nil {
		open = func(ctx context.Context, b plan.Backend) (migrate.Backend, error) {
			return migrate.Open(ctx, b, migrate.Options{})
		}
	}
	var backend migrate.Backend
	if len(cs.Secrets()) > 0 {
		backend, err = open(ctx, p.Backend)
		if err != nil {
			return &cli.ExitError{Code: cli.ExitFailure, Err: fmt.Errorf("opening the backend to check the secrets are there: %w", err)}
		}
	}
	if err := cs.Verify(ctx, rw.VerifyOptions{Backend: backend, Fingerprinter: fp, AllowDirty: o.AllowDirty}); err != nil {
		return &cli.ExitError{Code: cli.ExitFailure, Err: fmt.Errorf("not rewriting: %w", err)}
	}
	only := func(string) bool { return true }
	if !o.Yes {
		if err := cs.Diff(ios.Out); err != nil {
			return err
		}
		printNotes(ios.ErrOut, cs)
		only, err = confirm(ios, cs)
		if err != nil {
			return &cli.ExitError{Code: cli.ExitFailure, Err: err}
		}
	}
	applyErr := cs.Apply(ctx, only)
	n := 0
	for _, f := range cs.Files {
		if f.Applied {
			n++
			fmt.Fprintf(ios.ErrOut, "wrote %s\n", f.Name())
		}
	}
	if applyErr != nil {
		return &cli.ExitError{Code: cli.ExitFailure, Err: fmt.Errorf("after writing %d file(s): %w", n, applyErr)}
	}
	fmt.Fprintf(ios.ErrOut, "Rewrote %d file(s). Review with git diff, build and test, then commit.\n", n)
	if o.Yes {
		printNotes(ios.ErrOut, cs)
	}
	return nil
}

func printNotes(w io.Writer, cs *rw.Changeset) {
	if len(cs.Notes) == 0 {
		return
	}
	fmt.Fprintln(w, "\nNotes:")
	for _, n := range cs.Notes {
		fmt.Fprintln(w, "  "+cs.Redact(n.String()))
	}
}

// confirm asks whether to apply all changes, none, or file by file.
func confirm(ios *cli.IOStreams, cs *rw.Changeset) (func(string) bool, error) {
	in := bufio.NewReader(ios.In)
	ask := func(q string) (string, error) {
		fmt.Fprint(ios.ErrOut, q)
		line, err := in.ReadString('\n')
		if err != nil && line == "" {
			return "", fmt.Errorf("no answer: %w", err)
		}
		return strings.ToLower(strings.TrimSpace(line)), nil
	}
	a, err := ask(fmt.Sprintf("\nApply these changes to %d file(s)? [y]es / [n]o / [p]ick file by file: ", len(cs.Files)))
	if err != nil {
		return nil, err
	}
	switch a {
	case "y", "yes":
		return func(string) bool { return true }, nil
	case "p", "pick":
		chosen := map[string]bool{}
		for _, f := range cs.Files {
			a, err := ask(fmt.Sprintf("  %s (%s)? [y/N] ", f.Name(), strings.Join(f.Why, "; ")))
			if err != nil {
				return nil, err
			}
			chosen[f.Name()] = a == "y" || a == "yes"
		}
		return func(name string) bool { return chosen[name] }, nil
	default:
		return nil, errors.New("nothing written")
	}
}
