using EdgeCloud.Core.Objects;
using EdgeCloud.Core.State;
using EdgeCloud.Core.Templates;
using EdgeCloud.Requests.Auth;

namespace EdgeCloud.Requests;

public sealed partial class Cloud
{
    /// <summary>
    /// Creates what oned creates on a new database, if the state is empty: users oneadmin (0) and
    /// serveradmin (1), groups oneadmin (0) and users (1), zone 0, the default cluster (0), datastores
    /// 0 system, 1 default, 2 files, security group 0 "default", and the default ACL rules. Returns
    /// false when the state already existed (nothing is changed then).
    /// </summary>
    public Task<bool> BootstrapAsync(string oneadminPassword, string endpoint, string datastoreBase, CancellationToken ct = default) =>
        bus.ExecuteAsync(tx =>
        {
            if (tx.Get<User>(ObjectType.User, 0) is not null) return false;
            var umask = Permissions.FromUmask(settings.DefaultUmask);
            tx.Put(new Group { Id = tx.NextId(ObjectType.Group), Name = "oneadmin", Users = [0, 1] });
            tx.Put(new Group { Id = tx.NextId(ObjectType.Group), Name = "users" });
            tx.NextId(ObjectType.Group, 99); // user-created groups start at 100, as in oned
            tx.Put(new User { Id = tx.NextId(ObjectType.User), Name = "oneadmin", Gid = 0, Gname = "oneadmin", Groups = [0], Password = PasswordHash.Sha256Hex(oneadminPassword) });
            var serverTemplate = new Template();
            tx.Put(new User
            {
                Id = tx.NextId(ObjectType.User), Name = "serveradmin", Gid = 0, Gname = "oneadmin", Groups = [0],
                AuthDriver = "server_cipher", Password = PasswordHash.Sha256Hex(PasswordHash.NewPassword()), Template = serverTemplate,
            });

            var zt = new Template();
            zt.Set("ENDPOINT", endpoint);
            tx.Put(new Zone { Id = tx.NextId(ObjectType.Zone), Name = "OpenNebula", Template = zt });

            tx.Put(new QuotaDefaults
            {
                Id = tx.NextId(ObjectType.QuotaDefaults), Name = "default quotas",
                User = settings.DefaultUserQuotas, Group = settings.DefaultGroupQuotas,
            });
            tx.Put(new Cluster { Id = tx.NextId(ObjectType.Cluster), Name = "default", Datastores = [0, 1, 2] });
            tx.NextId(ObjectType.Cluster, 99);
            Datastore Ds(string name, DatastoreType type, string dsMad, string tmMad)
            {
                var t = new Template();
                t.Set("TYPE", type.ToString());
                if (dsMad.Length > 0) t.Set("DS_MAD", dsMad);
                t.Set("TM_MAD", tmMad);
                if (type != DatastoreType.SYSTEM_DS) t.Set("DISK_TYPE", "FILE");
                t.Set("SHARED", "YES");
                var id = tx.NextId(ObjectType.Datastore);
                return new Datastore
                {
                    Id = id, Name = name, Uid = 0, Gid = 0, Uname = "oneadmin", Gname = "oneadmin",
                    Permissions = Permissions.FromOctal(Convert.ToInt32("640", 8)) with { GroupU = true },
                    DsMad = dsMad, TmMad = tmMad, DsType = type, BasePath = $"{datastoreBase}/{id}", Clusters = [0], Template = t,
                };
            }
            tx.Put(Ds("system", DatastoreType.SYSTEM_DS, "", "dummy"));
            tx.Put(Ds("default", DatastoreType.IMAGE_DS, "dummy", "dummy"));
            tx.Put(Ds("files", DatastoreType.FILE_DS, "dummy", "dummy"));
            tx.NextId(ObjectType.Datastore, 99);

            var sgt = new Template();
            sgt.Set("DESCRIPTION", "The default security group is added to every network. Use it to add default filter rules for your networks. You may remove any rule from the default group.");
            foreach (var dir in new[] { "OUTBOUND", "INBOUND" })
            {
                var rule = new VectorAttribute("RULE");
                rule.Set("PROTOCOL", "ALL");
                rule.Set("RULE_TYPE", dir);
                sgt.Add(rule);
            }
            tx.Put(new SecGroup
            {
                Id = tx.NextId(ObjectType.SecGroup), Name = "default", Uid = 0, Gid = 0, Uname = "oneadmin", Gname = "oneadmin",
                Permissions = umask, Template = sgt,
            });
            tx.NextId(ObjectType.SecGroup, 99);

            // Users in group "users" create standard resources; everyone uses zones and marketplaces.
            AddRuleIfMissing(tx, AclRule.GroupId | 1,
                AclRule.All | ObjectType.Vm.AclBit() | ObjectType.VNet.AclBit() | ObjectType.Image.AclBit() | ObjectType.Template.AclBit()
                | ObjectType.Document.AclBit() | ObjectType.SecGroup.AclBit() | ObjectType.VmGroup.AclBit() | ObjectType.BackupJob.AclBit(),
                (long)AuthOp.Create, AclRule.IndividualId | 0);
            AddRuleIfMissing(tx, AclRule.All, AclRule.All | ObjectType.Zone.AclBit(), (long)AuthOp.Use, AclRule.All);
            AddRuleIfMissing(tx, AclRule.All, AclRule.All | ObjectType.Market.AclBit() | ObjectType.MarketApp.AclBit(), (long)AuthOp.Use, AclRule.All);
            AddVdcRules(tx, 1);
            return true;
        }, ct);
}
