// Package wizard implements `env2vault wizard`, the interactive wizard
// (also what `env2vault` with no arguments starts on a terminal). The
// screens live in package tui; this package wires them to the library
// packages the other commands use.
package wizard

import (
	"context"
	"errors"
	"fmt"
	"os"

	tea "charm.land/bubbletea/v2"
	"github.com/spf13/cobra"

	"github.com/env2vault/env2vault/internal/cli"
	"github.com/env2vault/env2vault/migrate"
	"github.com/env2vault/env2vault/plan"
	"github.com/env2vault/env2vault/secret"
	"github.com/env2vault/env2vault/tui"
)

// Options are the wizard command's settings.
type Options struct {
	IO           *cli.IOStreams
	Roots        []string
	Out          string
	InsecureHTTP bool
	Endpoint     string
	Version      string
}

// NewCmd returns the `wizard` command.
func NewCmd(ios *cli.IOStreams) *cobra.Command {
	opts := &Options{IO: ios}
	cmd := &cobra.Command{
		Use:   "wizard [PATH...]",
		Short: "Walk through the whole migration interactively",
		Long: `The wizard walks through the migration on a terminal:
  1. scan the folders (default: the current one), with live progress;
  2. review the findings per repo (values masked), exclude some, and mark
     false positives (written to the repo's .env2vaultignore);
  3. choose the backend and check connectivity and credentials — tokens
     are never asked for: they come from VAULT_TOKEN or the token helper
     (GCP: Application Default Credentials; AWS: the default chain);
  4. review the plan: inventory, rotation reasons, the four phases;
  5. dry-run against the backend, confirm, push, and verify;
  6. review the code rewrite file by file, and apply what you accept;
  7. read the per-phase checklists and export them with the plan and
     reports into a folder.
Ctrl+C stops at any point; a push stops after its current secret and a
rerun resumes. NO_COLOR turns colour off. For CI, use 'env2vault batch'.`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Roots = args
			ctx := cmd.Context()
			if ctx == nil { // started by the root command without executing this one
				ctx = cmd.Root().Context()
			}
			return Run(ctx, opts)
		},
	}
	cmd.Flags().StringVar(&opts.Out, "out", "env2vault-out", "folder offered for the export")
	cmd.Flags().BoolVar(&opts.InsecureHTTP, "insecure-http", false, "allow plain http:// to a non-loopback Vault")
	cmd.Flags().StringVar(&opts.Endpoint, "endpoint", "", "GCP or AWS endpoint override")
	return cmd
}

// Run starts the wizard on the terminal and returns when it ends.
func Run(ctx context.Context, opts *Options) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if !opts.IO.InTTY || !opts.IO.OutTTY {
		return &cli.ExitError{Code: cli.ExitFailure, Err: errors.New("the wizard needs a terminal; for scripts and CI use 'env2vault batch'")}
	}
	fp, err := secret.LoadFingerprinter()
	if err != nil {
		return &cli.ExitError{Code: cli.ExitFailure, Err: err}
	}
	m := tui.New(ctx, tui.Options{
		Services: Services(fp, migrate.Options{AllowInsecureHTTP: opts.InsecureHTTP, Endpoint: opts.Endpoint}, opts.Out, opts.Version),
		Settings: tui.Settings{Roots: opts.Roots, OutDir: opts.Out, TokenSource: TokenSource},
		Color:    opts.IO.Color,
	})
	p := tea.NewProgram(m, tea.WithContext(ctx), tea.WithInput(opts.IO.In), tea.WithOutput(opts.IO.Out))
	_, runErr := p.Run()
	// Let a cancelled operation finish its current step (a push writes
	// its journal) before the process exits.
	m.Wait()
	if runErr != nil && !errors.Is(runErr, tea.ErrProgramKilled) && !errors.Is(runErr, tea.ErrInterrupted) && !errors.Is(runErr, context.Canceled) {
		return &cli.ExitError{Code: cli.ExitFailure, Err: fmt.Errorf("the wizard failed: %w", runErr)}
	}
	if stopped, where := m.Interrupted(); stopped || ctx.Err() != nil {
		return &cli.ExitError{Code: cli.ExitFailure, Err: fmt.Errorf("stopped at %s; nothing is half-written, and a rerun resumes an interrupted push", where)}
	}
	return nil
}

// TokenSource says where the backend's credentials will come from,
// naming environment variables but never printing a credential.
func TokenSource(kind string) string {
	switch kind {
	case plan.BackendVault:
		addr := os.Getenv("VAULT_ADDR")
		if addr == "" {
			addr = "https://127.0.0.1:8200 (VAULT_ADDR is not set)"
		}
		tok := "VAULT_TOKEN is not set: the token helper or ~/.vault-token is used"
		if os.Getenv("VAULT_TOKEN") != "" {
			tok = "token from VAULT_TOKEN"
		}
		return "Vault at " + addr + "; " + tok + "."
	}
	return "" // the wizard's own wording for GCP and AWS
}
