// Package checklist implements the `env2vault checklist` command.
package checklist

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/env2vault/env2vault/internal/cli"
	"github.com/env2vault/env2vault/plan"
)

// Options are the checklist command's settings.
type Options struct {
	IO       *cli.IOStreams
	PlanFile string
	Phase    string
	Format   string
}

// NewCmd returns the `checklist` command.
func NewCmd(ios *cli.IOStreams) *cobra.Command {
	opts := &Options{IO: ios}
	cmd := &cobra.Command{
		Use:   "checklist --plan FILE",
		Short: "Print a plan's per-phase checklists as Markdown task lists or JSON",
		Long: `Checklist prints the checklists of a plan made by env2vault plan: the
Inventory, Planning, Implementation and Rollout phases, each with concrete
tasks generated from the findings (rotate this key, move that one behind a
proxy, install the pre-commit hook...) and the best practices that apply.

Markdown output is task lists ("- [ ]") ready to paste into an issue or pull
request; JSON suits ticket systems. Every item has a stable ID, so
re-planning keeps the IDs of tasks that still apply.`,
		Example: `  env2vault checklist --plan env2vault-plan.yaml
  env2vault checklist --plan env2vault-plan.yaml --phase rollout
  env2vault checklist --plan env2vault-plan.yaml --format json | jq '.phases[].items[].text'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return Run(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.PlanFile, "plan", plan.DefaultFile, "plan file")
	cmd.Flags().StringVar(&opts.Phase, "phase", plan.PhaseAll, "phase: inventory, planning, implementation, rollout or all")
	cmd.Flags().StringVar(&opts.Format, "format", "markdown", "output format: markdown or json")
	return cmd
}

// Run prints the checklist.
func Run(ctx context.Context, opts *Options) error {
	fail := func(err error) error { return &cli.ExitError{Code: cli.ExitFailure, Err: err} }
	if opts.Format != "markdown" && opts.Format != "md" && opts.Format != "json" {
		return fail(fmt.Errorf("unknown --format %q (want markdown or json)", opts.Format))
	}
	p, err := plan.Load(opts.PlanFile)
	if err != nil {
		return fail(err)
	}
	phases, err := plan.Checklist(p, opts.Phase)
	if err != nil {
		return fail(fmt.Errorf("--phase: %w", err))
	}
	if opts.Format == "json" {
		err = plan.WriteChecklistJSON(opts.IO.Out, p, phases)
	} else {
		err = plan.WriteChecklistMarkdown(opts.IO.Out, p, phases)
	}
	if err != nil {
		return fail(fmt.Errorf("writing the checklist: %w", err))
	}
	return nil
}
