"""Checks an Argo WorkflowTemplate (JSON on stdin) against the models of
Argo's official Python SDK (argo-workflows on PyPI, generated from Argo's
OpenAPI spec): every field's type, every required field, and no field the
spec does not name (the SDK's models keep unknown fields; this refuses them)."""
import json
import sys

from argo_workflows.configuration import Configuration
from argo_workflows.model_utils import ModelNormal, validate_and_convert_types
from argo_workflows.model.io_argoproj_workflow_v1alpha1_workflow_template import (
    IoArgoprojWorkflowV1alpha1WorkflowTemplate as WorkflowTemplate,
)


def unknown_fields(value, path):
    if isinstance(value, ModelNormal):
        for name, item in value._data_store.items():
            if name not in value.openapi_types:
                yield "/".join(path + [name])
            else:
                yield from unknown_fields(item, path + [name])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from unknown_fields(item, path + [str(index)])
    elif isinstance(value, dict):
        for name, item in value.items():
            yield from unknown_fields(item, path + [name])


config = Configuration()
config.discard_unknown_keys = False
template = validate_and_convert_types(
    json.load(sys.stdin), (WorkflowTemplate,), ["template"], True, True, configuration=config
)
unknown = list(unknown_fields(template, []))
if unknown:
    sys.exit("fields Argo's WorkflowTemplate does not have: " + ", ".join(unknown))
print("valid")
