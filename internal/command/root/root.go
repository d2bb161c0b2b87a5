// Package root assembles the env2vault command tree.
package root

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/env2vault/env2vault/internal/cli"
	"github.com/env2vault/env2vault/internal/command/batch"
	"github.com/env2vault/env2vault/internal/command/checklist"
	"github.com/env2vault/env2vault/internal/command/migrate"
	"github.com/env2vault/env2vault/internal/command/plan"
	"github.com/env2vault/env2vault/internal/command/rewrite"
	"github.com/env2vault/env2vault/internal/command/run"
	"github.com/env2vault/env2vault/internal/command/scan"
	"github.com/env2vault/env2vault/internal/command/verify"
	"github.com/env2vault/env2vault/internal/command/wizard"
)

// Version is set at build time with -ldflags "-X .../root.Version=...".
var Version = "dev"

// New returns the root command with every subcommand attached. With no
// arguments on a terminal it starts the wizard; otherwise it prints help.
func New(ios *cli.IOStreams) *cobra.Command {
	wiz := wizard.NewCmd(ios)
	root := &cobra.Command{
		Use:   "env2vault",
		Short: "Move secrets out of .env files and source code into a real vault",
		Long: `env2vault finds secrets in .env files, hardcoded keys and git history,
plans their migration, pushes them into HashiCorp Vault, Google Secret Manager
or AWS Secrets Manager, and rewrites code to read them from there.

Run it with no arguments on a terminal for the interactive wizard.`,
		Version:       Version,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if ios.InTTY && ios.OutTTY {
				wiz.SetContext(cmd.Context())
				return wiz.RunE(wiz, nil)
			}
			return cmd.Help()
		},
	}
	root.AddCommand(
		scan.NewCmd(ios),
		plan.NewCmd(ios),
		checklist.NewCmd(ios),
		migrate.NewCmd(ios),
		rewrite.NewCmd(ios),
		run.NewCmd(ios),
		verify.NewCmd(ios),
		batch.NewCmd(ios),
		wiz,
	)
	root.SetOut(ios.Out)
	root.SetErr(ios.ErrOut)
	root.SetIn(ios.In)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &cli.ExitError{Code: cli.ExitFailure, Err: fmt.Errorf("%w\nSee '%s --help'.", err, c.CommandPath())}
	})
	return root
}

// Execute runs the command tree with args and returns the exit code,
// printing any error to ios.ErrOut.
func Execute(ctx context.Context, ios *cli.IOStreams, args []string) int {
	cmd := New(ios)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(ctx)
	if err != nil {
		if ee, ok := err.(*cli.ExitError); !ok || ee.Err != nil {
			fmt.Fprintf(ios.ErrOut, "env2vault: %v\n", err)
		}
	}
	return cli.Code(err)
}

// Main is the process entry point.
func Main() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Execute(ctx, cli.System(), os.Args[1:])
}
