package org.jobyard.engine.cli;

import picocli.AutoComplete;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code jobyard completion bash|zsh}: a shell completion script for every verb and option. */
@Command(name = "completion", mixinStandardHelpOptions = true,
    description = {"Prints a completion script for bash or zsh (verbs, options and their values).",
        "", "Load it in the current shell:  source <(jobyard completion bash)",
        "or for every new one:  jobyard completion bash > ~/.local/share/bash-completion/"
            + "completions/jobyard",
        "zsh:  echo 'source <(jobyard completion zsh)' >> ~/.zshrc"},
    footer = {"", "Exit status: 0 printed; 2 a shell other than bash or zsh."})
final class CompletionCommand implements java.util.concurrent.Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Parameters(paramLabel = "SHELL", description = "bash or zsh")
  String shell;

  @Override
  public Integer call() {
    if (!shell.equals("bash") && !shell.equals("zsh")) {
      throw new CliException(Main.BAD_INPUT, "SHELL must be bash or zsh, got '" + shell + "'");
    }
    // one script for both: picocli's loads zsh's bashcompinit when run by zsh
    var out = spec.commandLine().getOut();
    out.print(AutoComplete.bash("jobyard", spec.root().commandLine()));
    out.flush();
    return Main.OK;
  }
}
