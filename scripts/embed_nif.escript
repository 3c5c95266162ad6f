#!/usr/bin/env escript
%% SPDX-License-Identifier: Apache-2.0
%% Adds the NIF library to an escript's archive as fastrel/priv/relnif_nif.so:
%% rebar3 escriptize packs only ebin/, and relnif extracts the library from here.
main([Escript, So]) ->
    {ok, Sections} = escript:extract(Escript, []),
    {archive, Zip} = lists:keyfind(archive, 1, Sections),
    {ok, Files} = zip:extract(Zip, [memory]),
    {ok, SoBin} = file:read_file(So),
    Entry = "fastrel/priv/relnif_nif.so",
    {ok, {_, NewZip}} = zip:create("fastrel.zip", lists:keystore(Entry, 1, Files, {Entry, SoBin}), [memory]),
    ok = escript:create(Escript, lists:keystore(archive, 1, Sections, {archive, NewZip})),
    ok = file:change_mode(Escript, 8#755).
