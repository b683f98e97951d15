#!/usr/bin/python3
"""Azure's documented safe rollout (blue/green) of an online endpoint with the
Python SDK v2 (azure-ai-ml), as in "Perform safe rollout of new deployments for
real-time inference" and azureml-examples' online-endpoints-safe-rollout
notebook. Nothing in here knows about mldeck: the same script runs against a
real workspace. Against `mldeck serve --tls` only the environment differs:

    AZUREML_DEV_URL_MFE=https://127.0.0.1:5800       the SDK's own base-URL override
    REQUESTS_CA_BUNDLE=$HOME/.local/share/mldeck/tls-cert.pem
    MSI_ENDPOINT=https://127.0.0.1:5800/MSI/auth     DefaultAzureCredential's Azure ML
    MSI_SECRET=$(cat $HOME/.local/share/mldeck/admin.key)   managed identity

(README.md, "Use the Azure SDK"). Debian has no pydash, which azure-ai-ml
imports: put tests/shims on PYTHONPATH.

The sample's model files (model-1/model/sklearn_regression_model.pkl and
model-2's) are pickles of scikit-learn 0.24 that Debian's scikit-learn does not
read, so train() makes equivalent ones (a linear regression on 10 features;
model-2 predicts twice model-1) in a scratch folder. The scoring script,
conda file and request are the sample's (model-1/).

    python3 safe_rollout.py [--subscription ID] [--resource-group RG] [--workspace WS]
"""
import argparse
import datetime
import os
import sys
import tempfile

from azure.ai.ml import MLClient
from azure.ai.ml.entities import (CodeConfiguration, Environment, ManagedOnlineDeployment,
                                  ManagedOnlineEndpoint, Model)
from azure.identity import DefaultAzureCredential

HERE = os.path.dirname(os.path.abspath(__file__))


def train(folder, scale):
    """FOLDER/model/sklearn_regression_model.pkl: prediction = scale x the sum of
    the row's 10 features. Returns the model folder."""
    import joblib
    import numpy
    from sklearn.linear_model import LinearRegression

    x = numpy.random.RandomState(0).rand(50, 10)
    m = LinearRegression().fit(x, scale * x.sum(axis=1))
    os.makedirs(os.path.join(folder, "model"), exist_ok=True)
    joblib.dump(m, os.path.join(folder, "model", "sklearn_regression_model.pkl"))
    return os.path.join(folder, "model")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--subscription", default="00000000-0000-0000-0000-000000000000")
    ap.add_argument("--resource-group", default="rg-local")
    ap.add_argument("--workspace", default="local")
    args = ap.parse_args()
    scratch = tempfile.mkdtemp(prefix="safe-rollout-")
    sample = os.path.join(HERE, "model-1")
    request_file = os.path.join(sample, "sample-request.json")

    # Connect to the workspace
    ml_client = MLClient(DefaultAzureCredential(), args.subscription, args.resource_group,
                         args.workspace)

    # Define an endpoint
    online_endpoint_name = "endpt-" + datetime.datetime.now().strftime("%m%d%H%M%f")
    endpoint = ManagedOnlineEndpoint(name=online_endpoint_name,
                                     description="this is a sample online endpoint",
                                     auth_mode="key", tags={"foo": "bar"})

    # Define the blue deployment
    model = Model(path=train(os.path.join(scratch, "model-1"), 1.0))
    env = Environment(conda_file=os.path.join(sample, "environment", "conda.yaml"),
                      image="mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest")
    code_config = CodeConfiguration(code=os.path.join(sample, "onlinescoring"),
                                    scoring_script="score.py")
    blue_deployment = ManagedOnlineDeployment(
        name="blue", endpoint_name=online_endpoint_name, model=model, environment=env,
        code_configuration=code_config, instance_type="Standard_DS3_v2", instance_count=1)

    # Create the endpoint, then the blue deployment; blue takes all the traffic
    ml_client.online_endpoints.begin_create_or_update(endpoint).result()
    ml_client.online_deployments.begin_create_or_update(blue_deployment).result()
    endpoint.traffic = {"blue": 100}
    ml_client.online_endpoints.begin_create_or_update(endpoint).result()

    # Test the endpoint with sample data
    print("blue:", ml_client.online_endpoints.invoke(endpoint_name=online_endpoint_name,
                                                     request_file=request_file))

    # Scale the existing deployment to handle more traffic
    blue_deployment.instance_count = 2
    ml_client.online_deployments.begin_create_or_update(blue_deployment).result()

    # Get the details of the endpoint
    endpoint = ml_client.online_endpoints.get(name=online_endpoint_name)
    print("scoring uri:", endpoint.scoring_uri, "traffic:", endpoint.traffic)

    # Deploy a new model, but send it no traffic yet
    model2 = Model(path=train(os.path.join(scratch, "model-2"), 2.0))
    green_deployment = ManagedOnlineDeployment(
        name="green", endpoint_name=online_endpoint_name, model=model2, environment=env,
        code_configuration=code_config, instance_type="Standard_DS3_v2", instance_count=1)
    ml_client.online_deployments.begin_create_or_update(green_deployment).result()
    print("green:", ml_client.online_endpoints.invoke(endpoint_name=online_endpoint_name,
                                                      deployment_name="green",
                                                      request_file=request_file))

    # Test the new deployment with mirrored traffic
    endpoint.mirror_traffic = {"green": 10}
    ml_client.online_endpoints.begin_create_or_update(endpoint).result()
    for _ in range(10):
        ml_client.online_endpoints.invoke(endpoint_name=online_endpoint_name,
                                          deployment_name="blue", request_file=request_file)
    endpoint.mirror_traffic = {"green": 0}
    ml_client.online_endpoints.begin_create_or_update(endpoint).result()

    # Test the new deployment with a small percentage of live traffic
    endpoint.traffic = {"blue": 90, "green": 10}
    ml_client.online_endpoints.begin_create_or_update(endpoint).result()
    print(ml_client.online_deployments.get_logs(name="green", endpoint_name=online_endpoint_name,
                                                lines=5))

    # Send all traffic to the new deployment
    endpoint.traffic = {"blue": 0, "green": 100}
    ml_client.begin_create_or_update(endpoint).result()
    print("traffic:", ml_client.online_endpoints.get(name=online_endpoint_name).traffic)

    # Remove the old deployment, then the endpoint
    ml_client.online_deployments.begin_delete(name="blue",
                                              endpoint_name=online_endpoint_name).result()
    ml_client.online_endpoints.begin_delete(name=online_endpoint_name).result()
    print("done:", online_endpoint_name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
