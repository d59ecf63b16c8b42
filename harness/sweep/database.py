"""Database: Aurora clusters and their instances, cluster snapshots, DB subnet groups,
parameter groups.

An instance whose own name does not carry the suffix still goes with a matched cluster
("member"). AWS's own ``default.*`` parameter groups are never the run's. A cluster's
automated snapshots are AWS's: they go with the cluster (Aurora deletes them when the cluster
is deleted) and are never leftovers; moto keeps them after the cluster, with its tags. A
manual snapshot carrying the suffix (a final snapshot) is one: it holds the data.
"""
from __future__ import annotations

from dataclasses import dataclass

from harness.sweep.core import Found, Stage, Sweep, deleter, finder, pages


@dataclass
class Cluster:
    protected: bool


@finder
def find_database(s: Sweep, out: list[Found]) -> None:
    rds = s.c.rds
    clusters: set[str] = set()
    existing: set[str] = set()
    with s.listing("rds clusters"):
        for c in pages(rds, "describe_db_clusters", "DBClusters"):
            existing.add(c["DBClusterIdentifier"])
            arn = c.get("DBClusterArn", "")
            why = s.hit(c["DBClusterIdentifier"], tags=c.get("TagList"), arn=arn)
            if why:
                clusters.add(c["DBClusterIdentifier"])
                out.append(Found("rds cluster", c["DBClusterIdentifier"], c["DBClusterIdentifier"],
                                 why, arn=arn, detail=Cluster(c.get("DeletionProtection", False))))
    with s.listing("rds instances"):
        for i in pages(rds, "describe_db_instances", "DBInstances"):
            arn = i.get("DBInstanceArn", "")
            why = s.hit(i["DBInstanceIdentifier"], tags=i.get("TagList"), arn=arn) or (
                "member" if i.get("DBClusterIdentifier") in clusters else None)
            if why:
                out.append(Found("rds instance", i["DBInstanceIdentifier"],
                                 i["DBInstanceIdentifier"], why, arn=arn))
    with s.listing("rds cluster snapshots"):
        for snap in pages(rds, "describe_db_cluster_snapshots", "DBClusterSnapshots"):
            arn = snap.get("DBClusterSnapshotArn", "")
            name = snap["DBClusterSnapshotIdentifier"]
            if snap.get("SnapshotType") == "automated":
                s.gone.add(arn)
                continue
            why = s.hit(name, snap.get("DBClusterIdentifier"), tags=snap.get("TagList"), arn=arn)
            if why:
                out.append(Found("rds cluster snapshot", name, name, why, arn=arn))
    with s.listing("rds subnet groups"):
        for g in pages(rds, "describe_db_subnet_groups", "DBSubnetGroups"):
            arn = g.get("DBSubnetGroupArn", "")
            why = s.hit(g["DBSubnetGroupName"], arn=arn)
            if why:
                out.append(Found("rds subnet group", g["DBSubnetGroupName"], g["DBSubnetGroupName"],
                                 why, arn=arn))
    for kind, op, prefix in (
            ("rds cluster parameter group", "describe_db_cluster_parameter_groups",
             "DBClusterParameterGroup"),
            ("rds parameter group", "describe_db_parameter_groups", "DBParameterGroup")):
        with s.listing(kind + "s"):
            for g in pages(rds, op, prefix + "s"):
                name, arn = g[prefix + "Name"], g.get(prefix + "Arn", "")
                why = None if name.startswith("default.") else s.hit(name, arn=arn)
                if why:
                    out.append(Found(kind, name, name, why, arn=arn))


# ---- deleters, in delete order
@deleter("rds instance", Stage.DATABASE, "DBInstanceNotFound", "DBInstanceNotFoundFault")
def _del_instance(s: Sweep, f: Found) -> None:
    s.c.rds.delete_db_instance(DBInstanceIdentifier=f.id, SkipFinalSnapshot=True,
                               DeleteAutomatedBackups=True)


@deleter("rds cluster", Stage.DATABASE, "DBClusterNotFoundFault")
def _del_cluster(s: Sweep, f: Found) -> None:
    cluster = f.detail_as(Cluster)
    if cluster.protected:
        s.c.rds.modify_db_cluster(DBClusterIdentifier=f.id, DeletionProtection=False,
                                  ApplyImmediately=True)
        cluster.protected = False
    s.c.rds.delete_db_cluster(DBClusterIdentifier=f.id, SkipFinalSnapshot=True)


@deleter("rds cluster snapshot", Stage.DATABASE, "DBClusterSnapshotNotFoundFault")
def _del_cluster_snapshot(s: Sweep, f: Found) -> None:
    s.c.rds.delete_db_cluster_snapshot(DBClusterSnapshotIdentifier=f.id)


@deleter("rds subnet group", Stage.DATABASE, "DBSubnetGroupNotFoundFault")
def _del_subnet_group(s: Sweep, f: Found) -> None:
    s.c.rds.delete_db_subnet_group(DBSubnetGroupName=f.id)


@deleter("rds cluster parameter group", Stage.DATABASE, "DBClusterParameterGroupNotFound",
         "DBParameterGroupNotFound")
def _del_cluster_parameter_group(s: Sweep, f: Found) -> None:
    s.c.rds.delete_db_cluster_parameter_group(DBClusterParameterGroupName=f.id)


@deleter("rds parameter group", Stage.DATABASE, "DBParameterGroupNotFound")
def _del_parameter_group(s: Sweep, f: Found) -> None:
    s.c.rds.delete_db_parameter_group(DBParameterGroupName=f.id)
