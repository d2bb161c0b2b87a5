// Package rewrite implements the `env2vault rewrite` command.
package rewrite

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/env2vault/env2vault/internal/cli"
)

// NewCmd returns the `rewrite` command.
func NewCmd(ios *cli.IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:   "rewrite",
		Short: "PLACEHOLDER: being built",
		RunE: func(cmd *cobra.Command, args []string) error {
			return errors.New("rewrite is not built yet")
		},
	}
}
