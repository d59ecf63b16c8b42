"""How the stack becomes Terraform JSON, apart from what it is made of (the constructs in stack/).

``synth`` runs ``python -m stack.cli`` in a child process and finds the JSON; ``cache`` keeps
outputs keyed by the content of every input; ``bindings`` imports the provider bindings one
submodule at a time; ``lambda_package`` builds the rotation Lambda's zip for the synth.
"""
