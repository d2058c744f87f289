use strict; use warnings; use lib './lib';
use Sisimai; use JSON;
my $json = JSON->new->canonical;
for my $f (@ARGV) {
  my $v = eval { Sisimai->rise($f, 'delivered' => 1, 'vacation' => 1) };
  next unless $v;
  for my $e (@$v) {
    my $d = $e->damn;
    $d->{file} = $f;
    print $json->encode($d), "\n";
  }
}
