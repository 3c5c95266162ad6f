%% SPDX-License-Identifier: Apache-2.0
%% Tarballs and releases that are wrong without saying so, or that reach outside their
%% root (issue 13): relnif:make_tar, relnif:tar_files, fastrel_release (rebar3 fastrel
%% release|tar) and its overlays. Every tarball made here must unpack with erl_tar:extract,
%% as release_handler:unpack_release does it.
-module(relnif_safety_tests).

-include_lib("eunit/include/eunit.hrl").
-include_lib("kernel/include/file.hrl").

-export([umask_000_release/1]).

%%% ---------------------------------------------------------------- fixtures

scratch() ->
    {ok, Cwd} = file:get_cwd(),
    filename:join([Cwd, "_build", "relnif_safety_tests",
                   os:getpid() ++ "-" ++ integer_to_list(erlang:unique_integer([positive])),
                   "a", "b", "c"]).

%% A release of kernel, stdlib, sasl and myapp (AppVsn in its .app and the .rel, RelVsn
%% for the release), its boot file made by relnif, in a scratch directory (three levels
%% deep, so escapes stay in the scratch area) that is the cwd during Fun.
with_release(Fun) -> with_release("1.0", "1.0.0", Fun).

with_release(AppVsn, RelVsn, Fun) ->
    {ok, Cwd} = file:get_cwd(),
    Dir = scratch(),
    App = filename:join(Dir, "lib/myapp-1.0"),
    [ok = filelib:ensure_path(filename:join(App, D)) || D <- ["ebin", "priv/sub"]],
    ok = file:write_file(filename:join(App, "ebin/myapp.app"), io_lib:format("~tp.~n", [
        {application, myapp, [{description, "t"}, {vsn, AppVsn}, {modules, [myapp_sup]},
                              {registered, []}, {applications, [kernel, stdlib]}]}])),
    ok = file:write_file(filename:join(App, "ebin/myapp_sup.beam"), "beam"),
    ok = file:write_file(filename:join(App, "priv/sub/data.bin"), "data"),
    Vsn = fun(A) -> _ = application:load(A), {ok, V} = application:get_key(A, vsn), V end,
    Rel = {release, {"myrel", RelVsn}, {erts, erlang:system_info(version)},
           [{kernel, Vsn(kernel)}, {stdlib, Vsn(stdlib)}, {sasl, Vsn(sasl)}, {myapp, AppVsn}]},
    ok = file:write_file(filename:join(Dir, "myrel.rel"), io_lib:format("~tp.~n", [Rel])),
    ok = file:write_file(filename:join(Dir, "extra.txt"), "extra"),
    ok = file:write_file(filename:join(Dir, "../outside.txt"), "secret"),
    ok = filelib:ensure_path(filename:join(Dir, "out")),
    ok = file:set_cwd(Dir),
    try
        {ok, relnif, _} = relnif:make_script("myrel", [silent, {path, ["lib/*/ebin"]}]),
        Fun(Dir)
    after
        ok = file:set_cwd(Cwd),
        _ = file:del_dir_r(filename:dirname(filename:dirname(filename:dirname(Dir))))
    end.

tar(Opts) -> relnif:make_tar("myrel", [silent, {path, ["lib/*/ebin"]}, {outdir, "out"} | Opts]).

%% Unpacks T as release_handler does and returns its entries with their modes.
extract(T) ->
    D = T ++ ".x",
    _ = file:del_dir_r(D),
    ?assertEqual(ok, erl_tar:extract(T, [compressed, {cwd, D}])),
    {ok, Table} = erl_tar:table(T, [compressed, verbose]),
    [{Name, Mode} || {Name, _Type, _Size, _MTime, Mode, _Uid, _Gid} <- Table].

text(E) -> relnif:format_error(E).

contains(Text, Part) -> string:find(Text, Part) =/= nomatch.

%% The error, and nothing left where the tarball would have been.
refused(Result) ->
    ?assertMatch({error, relnif, _}, Result),
    ?assertEqual({ok, []}, file:list_dir("out")),
    element(3, Result).

%%% ---------------------------------------------------------------- silently wrong tarballs

%% systools crashes in erl_tar (the file grew past the 0 bytes stat reported); relnif
%% packed an empty start.boot.
boot_file_that_is_a_proc_file_is_an_error_test() ->
    with_release(fun(_) ->
        ok = file:delete("myrel.boot"),
        ok = file:make_symlink("/proc/self/status", "myrel.boot"),
        ?assertMatch({error, systools_make, {tar_error, {add, "./myrel.boot", _}}},
                     systools:make_tar("myrel", [silent, {path, ["lib/*/ebin"]}, {outdir, "out"}])),
        ok = file:del_dir_r("out"), ok = file:make_dir("out"),
        E = refused(tar([])),
        ?assertEqual({tar_error, {add, "./myrel.boot", size_changed}}, E),
        ?assert(contains(text(E), "./myrel.boot")),
        ?assert(contains(text(E), "size changed"))
    end).

%% systools finds sys.config and relup with filelib:is_file/1, then fails to read them.
directory_sys_config_or_relup_is_systools_error_test_() ->
    [fun() -> with_release(fun(_) ->
         ok = file:make_dir(F),
         {error, systools_make, E} = systools:make_tar("myrel", [silent, {path, ["lib/*/ebin"]}, {outdir, "out"}]),
         ?assertEqual({tar_error, {add, F, [{error, eisdir}]}}, E),
         ok = file:del_dir_r("out"), ok = file:make_dir("out"),
         ?assertEqual(E, refused(tar([]))),
         ?assertEqual(lists:flatten(systools_make:format_error(E)), text(E))
     end) end || F <- ["sys.config", "relup"]].

%%% ---------------------------------------------------------------- entries outside the root

extra_file_named_outside_the_root_is_refused_test() ->
    with_release(fun(_) ->
        [begin
             E = refused(tar([{extra_files, [{"extra.txt", To}]}])),
             ?assertEqual({tar_error, {add, "extra.txt", {unsafe_name, To}}}, E),
             ?assert(contains(text(E), To))
         end || To <- ["../../etc/x", "/tmp/x", "top/../../x"]],
        %% A `..' that stays inside is what erl_tar accepts too.
        {ok, relnif, []} = tar([{extra_files, [{"extra.txt", "top/../inside.txt"}]}]),
        _ = extract("out/myrel.tar.gz"),
        ?assertEqual({ok, <<"extra">>}, file:read_file("out/myrel.tar.gz.x/inside.txt"))
    end).

app_vsn_climbing_out_is_refused_test() ->
    with_release("1.0/../../../../escape", "1.0.0", fun(_) ->
        [{error_add_appl, {myapp, {tar_error, {add, _, {unsafe_name, To}}}}}] = E = refused(tar([])),
        ?assert(lists:prefix("lib/myapp-1.0/../../../../escape/", To)),
        ?assert(contains(text(E), To))
    end).

rel_vsn_climbing_out_is_refused_test() ->
    with_release("1.0", "../../../../escape", fun(_) ->
        E = refused(tar([])),
        ?assertEqual({tar_error, {add, "myrel.rel", {unsafe_name, "releases/../../../../escape/myrel.rel"}}}, E),
        ?assertEqual([], filelib:wildcard("../../../../escape*"))
    end).

var_tar_ownfile_named_outside_is_refused_test() ->
    with_release(fun(Dir) ->
        Var = "../../../v",
        Opts = [{variables, [{Var, filename:join(Dir, "lib")}]}],
        [begin
             E = refused(tar([{var_tar, How} | Opts])),
             ?assertMatch({tar_error, {add, "../../../v.tar.gz", {unsafe_name, "../../../v.tar.gz"}}}, E),
             ?assertNot(filelib:is_file("../../../v.tar.gz"))
         end || How <- [ownfile, include]],
        {ok, relnif, _} = tar([{var_tar, omit} | Opts]),
        extract("out/myrel.tar.gz")
    end).

tar_files_refuses_names_outside_test() ->
    with_release(fun(_) ->
        [begin
             E = refused(relnif:tar_files("out/t.tar.gz", [{"extra.txt", "ok.txt"}, {"extra.txt", To}], [])),
             ?assertEqual({tar_error, {add, "extra.txt", {unsafe_name, To}}}, E)
         end || To <- ["../x", "/etc/x"]],
        ok = relnif:tar_files("out/t.tar.gz", [{"extra.txt", "ok.txt"}], []),
        ?assertMatch([{"ok.txt", _}], extract("out/t.tar.gz"))
    end).

%%% ---------------------------------------------------------------- symlinks

symlink_in_priv_pointing_outside_is_refused_unless_asked_test() ->
    with_release(fun(Dir) ->
        Outside = filename:join(filename:dirname(Dir), "outside.txt"),
        ok = file:make_symlink(Outside, "lib/myapp-1.0/priv/leak"),
        [{error_add_appl, {myapp, {tar_error, {add, Link, {symlink_outside, Outside}}}}}] = E = refused(tar([])),
        ?assert(lists:suffix("priv/leak", Link)),
        ?assert(contains(text(E), "priv/leak")),
        ?assert(contains(text(E), "follow_symlinks")),
        {ok, relnif, _} = tar([{follow_symlinks, outside}]),
        extract("out/myrel.tar.gz"),
        ?assertEqual({ok, <<"secret">>}, file:read_file("out/myrel.tar.gz.x/lib/myapp-1.0/priv/leak"))
    end).

%% Inside the tree, a symlink is packed as systools packs it (its target's contents).
symlink_inside_the_tree_is_packed_as_systools_test() ->
    with_release(fun(_) ->
        ok = file:make_symlink("sub/data.bin", "lib/myapp-1.0/priv/alias"),
        ok = file:make_symlink("sub", "lib/myapp-1.0/priv/subalias"),
        {ok, systools_make, []} = systools:make_tar("myrel", [silent, {path, ["lib/*/ebin"]}]),
        {ok, Sys} = file:read_file("myrel.tar.gz"),
        {ok, relnif, []} = tar([]),
        {ok, Ours} = file:read_file("out/myrel.tar.gz"),
        ?assertEqual(zlib:gunzip(Sys), zlib:gunzip(Ours)),
        extract("out/myrel.tar.gz"),
        ?assertEqual({ok, <<"data">>}, file:read_file("out/myrel.tar.gz.x/lib/myapp-1.0/priv/alias"))
    end).

extra_dir_and_tar_files_symlink_outside_is_refused_test() ->
    with_release(fun(Dir) ->
        ok = file:make_dir("xdir"),
        ok = file:write_file("xdir/f", "f"),
        ok = file:make_symlink("/etc/hostname", "xdir/host"),
        E = refused(tar([{extra_files, [{"xdir", "data"}]}])),
        ?assertEqual({tar_error, {add, "xdir/host", {symlink_outside, "/etc/hostname"}}}, E),
        E2 = refused(relnif:tar_files("out/t.tar.gz", [{"xdir", "data"}], [])),
        ?assertEqual(E, E2),
        ok = relnif:tar_files("out/t.tar.gz", [{"xdir", "data"}], [{follow_symlinks, outside}]),
        ?assert(lists:keymember("data/host", 1, extract("out/t.tar.gz"))),
        %% A path named at the top is what the caller asked for, link or not.
        ok = file:make_symlink(filename:join(filename:dirname(Dir), "outside.txt"), "toplink"),
        ok = relnif:tar_files("out/t2.tar.gz", [{"toplink", "top.txt"}], []),
        ?assertMatch([{"top.txt", _}], extract("out/t2.tar.gz"))
    end).

bad_follow_symlinks_option_raises_test() ->
    ?assertError({badarg, [{follow_symlinks, yes}]}, relnif:make_tar("myrel", [{follow_symlinks, yes}])).

%%% ---------------------------------------------------------------- modes

%% What umask 000 gives: every packed entry (and the tarball) without group/world write.
packed_modes_have_no_group_or_world_write_test() ->
    with_release(fun(_) ->
        [ok = file:change_mode(F, M) || {F, M} <- [{"lib/myapp-1.0/priv/sub/data.bin", 8#666},
                                                 {"lib/myapp-1.0/ebin/myapp_sup.beam", 8#777},
                                                 {"extra.txt", 8#666}]],
        ok = file:make_dir("lib/myapp-1.0/priv/empty"),
        ok = file:change_mode("lib/myapp-1.0/priv/empty", 8#777),
        {ok, relnif, []} = tar([{extra_files, [{"extra.txt", "extra.txt"}]}]),
        Entries = extract("out/myrel.tar.gz"),
        ?assertEqual([], [{N, M} || {N, M} <- Entries, M band 8#022 =/= 0]),
        ?assertEqual(8#755, proplists:get_value("lib/myapp-1.0/ebin/myapp_sup.beam", Entries) band 8#777),
        ok = relnif:tar_files("out/t.tar.gz", [{"extra.txt", "e"}], []),
        ?assertEqual([{"e", 8#644}], [{N, M band 8#777} || {N, M} <- extract("out/t.tar.gz")])
    end).

%%% ---------------------------------------------------------------- fastrel_release

%% A project with myapp (whose priv holds `Priv' extra links) built with Relx under the
%% scratch dir: `{ok, Release}' or the error, with the scratch dir.
assemble(Relx, Env0, Setup) ->
    {ok, Cwd} = file:get_cwd(),
    Root = scratch(),
    App = filename:join(Root, "apps/myapp"),
    [ok = filelib:ensure_path(filename:join(App, D)) || D <- ["ebin", "priv"]],
    ok = file:write_file(filename:join(App, "ebin/myapp.app"), io_lib:format("~tp.~n", [
        {application, myapp, [{description, "t"}, {vsn, "1.0"}, {modules, [myapp]},
                              {registered, []}, {applications, [kernel, stdlib]}]}])),
    {ok, _, Beam} = compile:forms([{attribute, 1, module, myapp}], [binary]),
    ok = file:write_file(filename:join(App, "ebin/myapp.beam"), Beam),
    ok = file:write_file(filename:join(App, "priv/data.txt"), "data"),
    ok = file:write_file(filename:join(Root, "README"), "readme"),
    ok = file:write_file(filename:join(Root, "../outside.txt"), "secret"),
    Setup(Root),
    Env = maps:merge(#{apps => [{myapp, App}], output_dir => "_rel", root_dir => Root}, Env0),
    Config = Relx ++ [{release, {myrel, "1.0.0"}, [myapp]}, {include_erts, false}, {system_libs, false}],
    try
        {fastrel_release:assemble(Config, Env), Root}
    after
        ok = file:set_cwd(Cwd)
    end.

cleanup(Root) -> file:del_dir_r(filename:dirname(filename:dirname(filename:dirname(Root)))).

no_setup(_) -> ok.

overlays_writing_outside_the_release_are_refused_test_() ->
    [fun() ->
         {R, Root} = assemble([{overlay, [O]}], #{}, fun no_setup/1),
         try
             ?assertMatch({error, {fastrel_release, {outside_release, _, _, _}}}, R),
             {error, E} = R,
             ?assert(contains(lists:flatten(fastrel_release:format_error(E)), "outside the release")),
             ?assertEqual([], filelib:wildcard(filename:join(Root, "_rel/../x*"))),
             ?assertNot(filelib:is_file(filename:join(Root, "../../escaped"))),
             ?assertNot(filelib:is_file("/tmp/fastrel-safety-escape"))
         after cleanup(Root)
         end
     end || O <- [{mkdir, "../x"}, {copy, "README", "../x"}, {template, "README", "../../escaped"},
                  {copy, "README", "/tmp/fastrel-safety-escape"}, {mkdir, "a/../../x"},
                  {chmod, 8#777, "../x"}]].

overlay_into_output_dir_stays_and_is_packed_relative_test() ->
    {R, Root} = assemble([{overlay, [{copy, "README", "{{output_dir}}/doc/README"}]}], #{}, fun no_setup/1),
    try
        {ok, Rel = #{dir := Dir}} = R,
        ?assertEqual({ok, <<"readme">>}, file:read_file(filename:join(Dir, "doc/README"))),
        {ok, Tar} = fastrel_release:tar(Rel, []),
        ?assert(lists:keymember("doc/README", 1, extract(Tar)))
    after cleanup(Root)
    end.

release_vsn_or_name_outside_is_refused_test() ->
    {R, Root} = assemble([{release, {myrel, "../../../../escape"}, [myapp]}], #{}, fun no_setup/1),
    try
        %% The first release listed is built (the one the test's Relx adds first).
        ?assertMatch({error, {fastrel_release, {outside_release, release_vsn, _, _}}}, R),
        ?assertEqual([], filelib:wildcard(filename:join(Root, "../../escape*")))
    after cleanup(Root)
    end.

release_copy_refuses_symlink_outside_unless_asked_test() ->
    Link = fun(Root) -> ok = file:make_symlink(filename:join(filename:dirname(Root), "outside.txt"),
                                               filename:join(Root, "apps/myapp/priv/leak")) end,
    {R, Root} = assemble([], #{}, Link),
    try
        ?assertMatch({error, {fastrel_release, {symlink_outside, _, _}}}, R),
        {error, E} = R,
        ?assert(contains(lists:flatten(fastrel_release:format_error(E)), "priv/leak"))
    after cleanup(Root)
    end,
    {R2, Root2} = assemble([], #{follow_symlinks => outside}, Link),
    try
        {ok, Rel = #{dir := Dir}} = R2,
        ?assertEqual({ok, <<"secret">>}, file:read_file(filename:join(Dir, "lib/myapp-1.0/priv/leak"))),
        {ok, Tar} = fastrel_release:tar(Rel, []),
        ?assert(lists:keymember("lib/myapp-1.0/priv/leak", 1, extract(Tar)))
    after cleanup(Root2)
    end.

%% Under umask 000 (a fresh VM, since a VM's umask is fixed at start), nothing in the
%% release or its tarball is group- or world-writable.
release_under_umask_000_has_no_group_or_world_writable_file_test_() ->
    {timeout, 120, fun() ->
        Root = scratch(),
        ok = filelib:ensure_path(Root),
        try
            Ebin = filename:dirname(code:which(?MODULE)),
            Paths = lists:join(" ", [Ebin, filename:dirname(code:which(relnif)), filename:dirname(code:which(fastrel_config))]),
            Cmd = "umask 000; erl -noshell -pa " ++ Paths ++ " -eval 'relnif_safety_tests:umask_000_release(\"" ++ Root
                  ++ "\"), halt().' 2>&1",
            Out = os:cmd(Cmd),
            ?assertEqual("done", lists:last(string:lexemes(Out, "\n")), Out),
            {ok, [{Dir, Tar}]} = file:consult(filename:join(Root, "result")),
            Writable = string:lexemes(os:cmd("find " ++ Dir ++ " ! -type l -perm /022"), "\n"),
            ?assertEqual([], Writable),
            ?assertEqual(0, element(#file_info.mode, element(2, file:read_file_info(Tar))) band 8#022),
            ?assertEqual([], [{N, M} || {N, M} <- extract(Tar), M band 8#022 =/= 0])
        after cleanup(Root)
        end
    end}.

%% Run in the umask 000 VM: builds and packs a release, writes where they are.
umask_000_release(Root) ->
    ok = file:set_cwd(Root),
    {{ok, Rel = #{dir := Dir}}, _} =
        assemble([{overlay, [{mkdir, "log"}, {copy, "README", "doc/README"}, {template, "README", "etc/t"}]}],
                 #{}, fun(_) -> ok end),
    {ok, Tar} = fastrel_release:tar(Rel, []),
    ok = file:write_file(filename:join(Root, "result"), io_lib:format("~tp.~n", [{Dir, Tar}])),
    io:format("done~n").

%% `fastrel tar' of a relx-layout release: the same refusal, and the option.
fastrel_tar_refuses_symlink_outside_unless_asked_test() ->
    {R, Root} = assemble([], #{}, fun no_setup/1),
    try
        {ok, #{dir := Dir}} = R,
        Leak = filename:join(Dir, "lib/myapp-1.0/priv/leak"),
        ok = file:make_symlink(filename:join(filename:dirname(Root), "outside.txt"), Leak),
        {error, {fastrel_mix, {tar, {fastrel_release, _}}} = E} = fastrel_mix:tar(Dir, #{}),
        ?assert(contains(fastrel_mix:format_error(E), "priv/leak")),
        {ok, Tar} = fastrel_mix:tar(Dir, #{opts => [{follow_symlinks, outside}]}),
        ?assert(lists:keymember("lib/myapp-1.0/priv/leak", 1, extract(Tar)))
    after cleanup(Root)
    end.

%%% ---------------------------------------------------------------- untrusted term files

%% Issue 13: every term file a user hands fastrel (sys.config, overlay variables, an
%% application's .app, a release's .rel) is read by relnif:consult/1, whose limits turn
%% nesting 100000 deep or a 512 MiB binary literal into one sentence naming the file and
%% the line, in this VM (file:consult/1 builds whatever the text says).
hostile_texts() ->
    [{deep, [lists:duplicate(100000, $[), lists:duplicate(100000, $]), ".\n"]},
     {deep_tuple, ["[", lists:duplicate(100000, ${), "x", lists:duplicate(100000, $}), "].\n"]},
     {huge_binary, "[{a, <<0:4294967296>>}].\n"}].

%% The sentence names File, says "line 1", and is one line.
one_sentence(Text0, File) ->
    Text = lists:flatten(Text0),
    ?assert(contains(Text, File)),
    ?assert(contains(Text, "line 1")),
    ?assertEqual(nomatch, string:find(string:trim(Text), "\n")).

hostile_sys_config_test_() ->
    [{atom_to_list(Name), fun() ->
         {R, Root} = assemble([{sys_config, "config/sys.config"}], #{},
                              fun(Root) ->
                                  ok = filelib:ensure_path(filename:join(Root, "config")),
                                  ok = file:write_file(filename:join(Root, "config/sys.config"), Text)
                              end),
         try
             File = filename:join(Root, "config/sys.config"),
             ?assertMatch({error, {fastrel_release, {bad_sys_config, File, {error, {1, _, _}}}}}, R),
             {error, E} = R,
             one_sentence(fastrel_release:format_error(E), File)
         after cleanup(Root)
         end
     end} || {Name, Text} <- hostile_texts()].

hostile_overlay_vars_and_app_file_test_() ->
    [{atom_to_list(Name), fun() ->
         {R1, Root1} = assemble([{overlay_vars, ["vars.config"]}], #{},
                                fun(Root) -> ok = file:write_file(filename:join(Root, "vars.config"), Text) end),
         try
             Vars = filename:join(Root1, "vars.config"),
             ?assertMatch({error, {fastrel_release, {overlay_vars, Vars, {1, _, _}}}}, R1),
             {error, E1} = R1,
             one_sentence(fastrel_release:format_error(E1), Vars)
         after cleanup(Root1)
         end,
         {R2, Root2} = assemble([], #{},
                                fun(Root) -> ok = file:write_file(filename:join(Root, "apps/myapp/ebin/myapp.app"), Text) end),
         try
             App = filename:join(Root2, "apps/myapp/ebin/myapp.app"),
             ?assertMatch({error, {fastrel_release, {bad_app_file, App, {1, _, _}}}}, R2),
             {error, E2} = R2,
             one_sentence(fastrel_release:format_error(E2), App)
         after cleanup(Root2)
         end
     end} || {Name, Text} <- hostile_texts()].

%% A release directory whose releases/2/r.rel is hostile, read by fastrel appup,
%% fastrel relup and fastrel tar.
hostile_rel_file_test_() ->
    [{atom_to_list(Name), fun() ->
         Dir = scratch(),
         try
             Good = {release, {"r", "1"}, {erts, erlang:system_info(version)}, [{kernel, "1"}]},
             ok = filelib:ensure_path(filename:join(Dir, "releases/1")),
             ok = filelib:ensure_path(filename:join(Dir, "releases/2")),
             ok = filelib:ensure_path(filename:join(Dir, "lib")),
             ok = file:write_file(filename:join(Dir, "releases/1/r.rel"), io_lib:format("~tp.~n", [Good])),
             Rel = filename:join(Dir, "releases/2/r.rel"),
             ok = file:write_file(Rel, Text),
             ok = file:write_file(filename:join(Dir, "releases/start_erl.data"),
                                  [erlang:system_info(version), " 2\n"]),
             {error, fastrel_appup, A} = fastrel_appup:for_releases(Dir, Dir, "r"),
             ?assertMatch({rel_file, Rel, {1, _, _}}, A),
             one_sentence(fastrel_appup:format_error(A), Rel),
             {error, U} = fastrel_upgrade:relup(#{dir => Dir, name => "r", vsn => "2", upfrom => "1"}),
             ?assertMatch({fastrel_upgrade, {read, Rel, {1, _, _}}}, U),
             one_sentence(fastrel_upgrade:format_error(U), Rel),
             {error, T} = fastrel_mix:tar(Dir, #{}),
             ?assertMatch({fastrel_mix, {bad_rel_file, Rel, {1, _, _}}}, T),
             one_sentence(fastrel_mix:format_error(T), Rel)
         after
             _ = file:del_dir_r(filename:dirname(filename:dirname(filename:dirname(Dir))))
         end
     end} || {Name, Text} <- hostile_texts()].
