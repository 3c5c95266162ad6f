%% SPDX-License-Identifier: Apache-2.0
%% @doc Hot upgrades, build side: `releases/VSN/relup' for an assembled release (what
%% `rebar3 relup' makes through relx's rlx_relup), with the base release found on disk.
%%
%% The release directory keeps every version built into it (`releases/*/NAME.rel',
%% `lib/APP-VSN/'), as relx's output directory does, so the base release is the newest
%% earlier `releases/*/NAME.rel' unless one is named. For every application whose version
%% changed and that has no `ebin/APP.appup', `fastrel_appup:ensure/5' writes one when that
%% module is present; without it, the missing appup is reported by name.
-module(fastrel_upgrade).

-export([relup/1, upfrom/3, versions/2, make_relup/3, format_error/1]).

%% Every failure is `?FASTREL_ERROR(Reason)', Reason one of those format_error/1 knows.
-define(FASTREL_ERROR(R), {error, {?MODULE, R}}).

-type opts() :: #{dir := file:filename(),       % the release directory, OUTPUT_DIR/NAME
                  name := atom() | string(),
                  vsn => string() | undefined,    % default: the newest release in dir
                  upfrom => string() | undefined, % default: the newest one before vsn
                  log => fun((string(), list()) -> ok)}.
-export_type([opts/0]).

%% @doc Writes `DIR/releases/VSN/relup' (up from and down to `upfrom'). Returns its path,
%% the base version and make_relup's warnings (already logged).
-spec relup(opts()) -> {ok, #{relup := file:filename(), vsn := string(), upfrom := string(),
                              appups := [{atom(), existing | generated, file:filename()}]}}
                     | {error, {?MODULE, term()}}.
relup(#{dir := Dir0} = Opts) ->
    Dir = filename:absname(Dir0),
    Name = to_list(maps:get(name, Opts)),
    try
        Vsn = case maps:get(vsn, Opts, undefined) of
                  undefined -> newest(Dir, Name);
                  V -> V
              end,
        Top = rel_base(Dir, Name, Vsn),
        filelib:is_regular(Top ++ ".rel") orelse throw({no_release, Name, Vsn, Dir}),
        Up = case maps:get(upfrom, Opts, undefined) of
                 undefined ->
                     case upfrom(Dir, Name, Vsn) of
                         {ok, U} -> U;
                         none -> throw({no_upfrom, Name, Vsn, Dir})
                     end;
                 U -> U
             end,
        Up =/= Vsn orelse throw({same_vsn, Vsn}),
        Base = rel_base(Dir, Name, Up),
        filelib:is_regular(Base ++ ".rel") orelse throw({upfrom_not_found, Name, Up, versions(Dir, Name)}),
        Appups = appups(Dir, read_rel(Top ++ ".rel"), read_rel(Base ++ ".rel")),
        [log(Opts, "Appup for ~s: ~ts (~s)", [A, P, How]) || {A, How, P} <- Appups],
        OutDir = filename:dirname(Top),
        Path = [filename:join([Dir, "lib", "*", "ebin"])],
        case make_relup(Top, Base, [no_warn_sasl, {outdir, OutDir}, {path, Path}, silent]) of
            {ok, _Relup, Mod, Warnings} ->
                [log(Opts, "Warning: ~ts", [string:trim(Mod:format_warning(W))]) || W <- Warnings],
                Relup = filename:join(OutDir, "relup"),
                log(Opts, "Relup from ~s to ~s: ~ts", [Up, Vsn, Relup]),
                {ok, #{relup => Relup, vsn => Vsn, upfrom => Up, appups => Appups}};
            {error, Mod, Reason} ->
                throw({make_relup, Up, Vsn, {Mod, Reason}})
        end
    catch
        throw:R -> ?FASTREL_ERROR(R)
    end.

%% @doc The one call of make_relup: relnif's, systools' drop-in (relx calls systools'
%% with these same arguments).
-spec make_relup(string(), string(), [term()]) -> {ok, term(), module(), list()} | {error, module(), term()}.
make_relup(Top, Up, Opts) ->
    relnif:make_relup(Top, [Up], [Up], Opts).

%% @doc The newest version in `DIR/releases/*/NAME.rel' older than Vsn (relx's default
%% for `-u'), found again on every call: a second upgrade takes the first one as its base.
-spec upfrom(file:filename(), string(), string()) -> {ok, string()} | none.
upfrom(Dir, Name, Vsn) ->
    case [V || V <- versions(Dir, Name), compare(V, Vsn) =:= lt] of
        [] -> none;
        Older -> {ok, lists:last(Older)}
    end.

%% @doc The versions of release Name built into Dir, oldest first.
-spec versions(file:filename(), string()) -> [string()].
versions(Dir, Name) ->
    Rels = filelib:wildcard(filename:join([Dir, "releases", "*", Name ++ ".rel"])),
    lists:sort(fun(A, B) -> compare(A, B) =/= gt end,
               [filename:basename(filename:dirname(R)) || R <- Rels]).

newest(Dir, Name) ->
    case versions(Dir, Name) of
        [] -> throw({no_release, Name, undefined, Dir});
        Vs -> lists:last(Vs)
    end.

%% Version order: dot/dash-separated parts, numeric parts numerically, else as strings.
compare(A, A) -> eq;
compare(A, B) ->
    case {parts(A), parts(B)} of
        {P, P} -> if A < B -> lt; true -> gt end;
        {P, Q} when P < Q -> lt;
        _ -> gt
    end.

parts(V) ->
    [case string:to_integer(P) of
         {N, ""} -> {0, N};            % numbers sort before words at the same place
         _ -> {1, P}
     end || P <- string:lexemes(V, ".-+")].

rel_base(Dir, Name, Vsn) -> filename:join([Dir, "releases", Vsn, Name]).

read_rel(File) ->
    case relnif:consult(File) of
        {ok, [{release, _, {erts, _}, Apps}]} ->
            [{element(1, A), element(2, A)} || A <- Apps];
        {ok, _} -> throw({bad_rel, File});
        {error, E} -> throw({read, File, E})
    end.

%% Changed applications: the appup in the new version's ebin, or one made by fastrel_appup.
appups(Dir, TopApps, BaseApps) ->
    [appup(Dir, App, Old, New) || {App, New} <- TopApps, {A, Old} <- BaseApps, A =:= App, Old =/= New].

appup(Dir, App, OldVsn, NewVsn) ->
    OldDir = app_dir(Dir, App, OldVsn),
    NewDir = app_dir(Dir, App, NewVsn),
    Appup = filename:join([NewDir, "ebin", atom_to_list(App) ++ ".appup"]),
    case filelib:is_regular(Appup) of
        true -> {App, existing, Appup};
        false ->
            case fastrel_appup:ensure(App, OldVsn, OldDir, NewVsn, NewDir) of
                {ok, {How, Path}} -> {App, How, Path};
                {error, fastrel_appup, Reason} -> throw({appup, App, OldVsn, NewVsn, {fastrel_appup, Reason}})
            end
    end.

%% lib/APP-VSN in the release, else where this OTP has it (system_libs false).
app_dir(Dir, App, Vsn) ->
    Local = filename:join([Dir, "lib", atom_to_list(App) ++ "-" ++ Vsn]),
    Otp = filename:join(code:lib_dir(), atom_to_list(App) ++ "-" ++ Vsn),
    case {filelib:is_dir(Local), filelib:is_dir(Otp)} of
        {false, true} -> Otp;
        _ -> Local
    end.

to_list(A) when is_atom(A) -> atom_to_list(A);
to_list(L) when is_list(L) -> L.

log(#{log := F}, Fmt, Args) -> F(Fmt, Args);
log(_, _, _) -> ok.

%% @doc One sentence per failure.
-spec format_error(term()) -> string().
format_error({?MODULE, R}) -> format_error(R);
format_error({no_release, Name, undefined, Dir}) ->
    io_lib:format("No release ~s in ~ts (no releases/*/~s.rel): build it first", [Name, Dir, Name]);
format_error({no_release, Name, Vsn, Dir}) ->
    io_lib:format("Release ~s ~s not found in ~ts (no releases/~s/~s.rel)", [Name, Vsn, Dir, Vsn, Name]);
format_error({no_upfrom, Name, Vsn, Dir}) ->
    io_lib:format("No release of ~s older than ~s in ~ts to upgrade from: build the old version into the "
                  "same output directory first, or name one with --upfrom", [Name, Vsn, Dir]);
format_error({upfrom_not_found, Name, Up, Have}) ->
    io_lib:format("Upfrom release ~s ~s not found (releases built: ~ts)", [Name, Up, lists:join(", ", Have)]);
format_error({same_vsn, V}) -> io_lib:format("Cannot make a relup from version ~s to itself", [V]);
format_error({bad_rel, F}) -> io_lib:format("~ts is not a release file", [F]);
format_error({read, F, E}) -> io_lib:format("Cannot read ~ts: ~ts", [F, fastrel_errors:consult_error(E)]);
format_error({appup, App, Old, New, Nested}) ->
    io_lib:format("Appup for ~s ~s -> ~s: ~ts", [App, Old, New, fastrel_errors:nested(Nested)]);
format_error({make_relup, Up, Vsn, Nested}) ->
    io_lib:format("Relup from ~s to ~s: ~ts", [Up, Vsn, string:trim(fastrel_errors:nested(Nested))]);
format_error(Other) -> io_lib:format("~tp", [Other]).
